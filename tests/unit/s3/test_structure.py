"""core/s3 is layered: no module imports one that imports it back (sweep <-> sweep_run used to), the names the
command line, the window and core.runner use stay importable, and runs are kept only through core/run (the one
run lifecycle): no core/s3 module writes a run or run item row itself, or deletes a local file by path."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import mediaclean_gui.core.s3 as s3_package

S3 = Path(s3_package.__file__).parent


def s3_imports() -> dict[str, set[str]]:
    """``{module: {core.s3 modules it imports}}``, lazy imports inside functions included."""
    graph: dict[str, set[str]] = {}
    for path in S3.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps |= {a.name for a in node.names}
        graph[path.stem] = deps & {p.stem for p in S3.glob("*.py")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_cycle_check_can_fail():
    assert find_cycle({"sweep": {"sweep_run"}, "sweep_run": {"listing", "sweep"}, "listing": set()}) == [
        "sweep", "sweep_run", "sweep"]


def test_core_s3_has_no_import_cycle():
    graph = s3_imports()
    assert {"sweep", "sweep_run", "listing", "protections", "upload_plan", "transfer", "upload_run",
            "local_copies"} <= set(graph)
    assert find_cycle(graph) is None


def test_public_names_stay_importable():
    from mediaclean_gui.core.runner import EXECUTORS

    for target in EXECUTORS.values():
        module, name = target.split(":")
        assert callable(getattr(importlib.import_module(module), name)), target
    for module, names in {
        "mediaclean_gui.core.s3.upload": ("plan_upload", "execute_upload_plan", "key_of", "upload_total_line",
                                          "upload_summary", "object_key"),
        "mediaclean_gui.core.s3.sweep": ("plan_sweep", "execute_sweep_plan", "protect_keys", "sweep_summary",
                                         "versioning_notes", "bucket_usage", "AGE_BUCKETS",
                                         "reconcile_interrupted_sweeps"),
        "mediaclean_gui.core.s3.sweep_run": ("execute_sweep_plan", "reconcile_interrupted_sweeps"),
        "mediaclean_gui.core.s3.local_copies": ("LocalCopies", "reconcile_interrupted_uploads"),
        "mediaclean_gui.core.s3.lifecycle": ("lifecycle_export", "apply_lifecycle", "LifecycleExport"),
    }.items():
        mod = importlib.import_module(module)
        assert all(hasattr(mod, n) for n in names), (module, [n for n in names if not hasattr(mod, n)])


def test_modules_stay_readable_in_one_sitting():
    sizes = {p.stem: len(p.read_text(encoding="utf-8").splitlines()) for p in S3.glob("*.py")}
    assert max(sizes.values()) <= 700, sizes


#: SQL that writes a run or its items, and ways to delete a local file by its path
RUN_WRITES = re.compile(r"(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(runs|run_items)\b", re.IGNORECASE)
PATH_DELETES = re.compile(r"\b(os\.unlink|os\.remove|os\.rmdir|shutil\.rmtree|send2trash)\s*\(")


def offenders(pattern: re.Pattern[str], texts: dict[str, str]) -> list[str]:
    return sorted(name for name, text in texts.items() if pattern.search(text))


def test_the_lifecycle_checks_can_fail():
    assert offenders(RUN_WRITES, {"a": "conn.execute('UPDATE runs SET status = ?')", "b": "SELECT * FROM runs",
                                  "c": 'INSERT INTO run_items(run_id) VALUES (1)'}) == ["a", "c"]
    assert offenders(PATH_DELETES, {"a": "os.unlink(path)", "b": "guarded.remove(fd, name, t, e)",
                                    "c": "send2trash(path)"}) == ["a", "c"]


def test_runs_are_kept_only_through_core_run_and_files_deleted_only_through_the_guarded_path():
    texts = {p.stem: p.read_text(encoding="utf-8") for p in S3.glob("*.py")}
    assert offenders(RUN_WRITES, texts) == []
    assert offenders(PATH_DELETES, texts) == []
    assert "RECONCILERS" not in texts["upload_run"]  # the registry is core/run's
    from mediaclean_gui.core.run.lifecycle import RECONCILERS

    assert RECONCILERS["upload"] == "mediaclean_gui.core.s3.local_copies:reconcile_interrupted_uploads"
    assert RECONCILERS["sweep"] == "mediaclean_gui.core.s3.sweep_run:reconcile_interrupted_sweeps"
