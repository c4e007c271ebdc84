"""The command-line contract of SPEC section 4 for the commands of issue 2: JSON keys, exit codes, dry runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mediaclean_gui.cli import main

PROJECT_KEYS = {"id", "name", "root", "profile", "total_bytes", "reclaimable_bytes", "cleanup_status",
                "cleanup_completed_at", "auto_cleanup"}
CLEAN_KEYS = {"plan_id", "dry_run", "items", "skipped", "deleted_count", "deleted_size_mb", "failed", "cleanup_status"}


def sizes(root: Path, rels: list[str]) -> int:
    return sum(os.lstat(root / r).st_size for r in rels)


def test_project_add(workspace, cli):
    workspace.add_project("p1")
    code, out = cli("project", "add", workspace.root, "--profile", "ai-video-generator", "--external-id", "p1",
                    "--name", "Ocean")
    assert code == 0 and isinstance(out["project_id"], int)
    code, again = cli("project", "add", workspace.root, "--profile", "ai-video-generator", "--external-id", "p1",
                      "--name", "Ocean")
    assert again["project_id"] == out["project_id"]  # registering twice does not duplicate
    code, listing = cli("project", "list")
    assert [p["name"] for p in listing["projects"]] == ["Ocean"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("project", "add", "{root}/missing", "--profile", "ai-video-generator"), "does not exist or is not a folder"),
        (("project", "add", "{root}", "--profile", "no-such"), "No profile named 'no-such'"),
        (("project", "add", "{root}"), "the following arguments are required: --profile"),
        (("project", "import-db", "{root}/none.db", "--workspace", "{root}"), "does not exist"),
        (("clean",), "Name one PROJECT, or --all, or --plan ID"),
        (("clean", "p1", "--all"), "Name one PROJECT, or --all, or --plan ID"),
        (("clean", "nobody"), "No project 'nobody'"),
        (("clean", "--plan", "999", "--yes"), "No plan 999"),
        (("scan", "nobody"), "No project 'nobody'"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("history", "--limit", "many"),
         "argument --limit: needs a whole number from 0 to 9,223,372,036,854,775,807, not 'many'"),
        (("prefs", "nope"), "Unknown preference 'nope'"),
    ],
)
def test_usage_and_configuration_errors_exit_2(workspace, cli, args, message):
    code, out = cli(*[a.format(root=workspace.root) for a in args])
    assert code == 2
    assert out["success"] is False and out["exit_code"] == 2 and message in out["error"]


def test_import_list_scan_clean_history(workspace, cli, fs_records):
    workspace.add_project("p1", "Ocean", scenes=2, caches=[("pexels", "shared"), ("pexels", "own")])
    workspace.add_project("p2", "City", scenes=1, final=False, caches=[("pexels", "shared")])

    code, out = cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    assert code == 0 and {"imported", "project_ids"} <= set(out)
    assert out["imported"] == 2 and len(out["project_ids"]) == 2

    code, out = cli("project", "list")
    assert code == 0 and set(out) >= {"projects"}
    by_name = {p["name"]: p for p in out["projects"]}
    for project in by_name.values():
        assert PROJECT_KEYS <= set(project)
        assert project["profile"] == "ai-video-generator" and project["root"] == str(workspace.root)
        assert project["auto_cleanup"] == "inherit" and project["cleanup_status"] == "pending"
        assert project["cleanup_completed_at"] is None
    ocean = by_name["Ocean"]
    intermediates = [".cache/audio/p1/scene-1.mp3", ".cache/audio/p1/scene-2.mp3", ".cache/videos/p1/scene-1-seg.mp4",
                     ".cache/videos/p1/scene-2-seg.mp4", ".cache/assembly/p1/part-0.mp4",
                     ".cache/assembly/p1/part-1.mp4"]
    protected = [".cache/output/p1/final.mp4", ".cache/output/p1/final-thumb.jpg"]
    caches = ["assets/cache/pexels/shared.mp4", "assets/cache/pexels/own.mp4"]
    assert ocean["total_bytes"] == sizes(workspace.root, intermediates + protected + caches)
    # what cleanup would free now: the intermediates and the cache only Ocean uses (City still needs 'shared')
    assert ocean["reclaimable_bytes"] == sizes(workspace.root, intermediates + caches[1:])
    assert by_name["City"]["reclaimable_bytes"] == 0  # no final output yet

    code, out = cli("scan")
    assert code == 0 and {"projects", "files_scanned", "seconds"} <= set(out)
    assert out["files_scanned"] == 14 and out["seconds"] >= 0
    assert {p["name"] for p in out["projects"]} == {"Ocean", "City"}

    code, preview = cli("clean", "Ocean")
    assert code == 0 and CLEAN_KEYS <= set(preview)
    assert preview["dry_run"] is True and preview["failed"] == []
    assert preview["deleted_count"] == 7
    assert preview["deleted_size_mb"] == round(sizes(workspace.root, intermediates + caches[1:]) / 2**20, 2)
    assert preview["cleanup_status"] == "pending"
    for item in preview["items"]:
        assert {"target", "size", "role", "action", "rule", "project_id"} <= set(item)
    assert {k["reason"] for k in preview["skipped"]} == {"protected", "referenced by another project"}
    assert all(workspace.path(r).exists() for r in intermediates)  # a dry run changes nothing

    code, run = cli("clean", "--plan", preview["plan_id"], "--yes")
    assert code == 0 and CLEAN_KEYS <= set(run)
    assert run["dry_run"] is False and run["plan_id"] == preview["plan_id"]
    assert run["deleted_count"] == 7 and run["failed"] == [] and run["cleanup_status"] == "complete"
    assert run["deleted_size_mb"] == preview["deleted_size_mb"]
    summary = [r.getMessage() for r in fs_records if r.getMessage().startswith("Cleanup:")]
    assert summary == [f"Cleanup: Deleted 7 files, freed {run['freed_bytes'] / 2**20:.2f} MB"]

    code, out = cli("project", "list")
    ocean = {p["name"]: p for p in out["projects"]}["Ocean"]
    assert ocean["cleanup_status"] == "complete" and ocean["cleanup_completed_at"].endswith("Z")
    assert ocean["reclaimable_bytes"] == 0
    assert ocean["total_bytes"] == sizes(workspace.root, protected + caches[:1])

    code, out = cli("history")
    assert code == 0 and set(out) >= {"runs"}
    (entry,) = out["runs"]
    assert entry["plan_id"] == preview["plan_id"] and entry["status"] == "complete"
    assert entry["started_by"] == "user" and entry["deleted_count"] == 7 and entry["projects"] == ["Ocean"]
    assert entry["summary"] == summary[0]
    code, out = cli("history", "--limit", "0")
    assert out["runs"] == []


def test_text_output_of_a_dry_run(workspace, cli, capsys, catalog_path):
    workspace.add_project("p1", "Ocean", scenes=1)
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    capsys.readouterr()
    assert main(["--catalog", str(catalog_path), "clean", "Ocean"]) == 0
    text = capsys.readouterr().out
    assert "intermediate: 5 item(s)" in text and "kept back: 2" in text
    assert "protected: final: final render: never deleted" in text
    assert "\nWill delete 5 files · " in text and " · 2 kept\n" in text
    assert text.rstrip().endswith("Dry run: nothing was deleted. To run exactly this plan: mediaclean clean --plan 1 "
                                  "--yes")
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    assert main(["--catalog", str(catalog_path), "clean", "--plan", "1", "--yes"]) == 0
    assert capsys.readouterr().out.startswith("Cleanup: Deleted 5 files, freed ")


def test_json_prints_exactly_one_object_even_for_errors(workspace, catalog_path, capsys):
    for args in (["clean"], ["project", "list"], ["clean", "x", "--yes"], ["bogus"]):
        capsys.readouterr()
        main(["--catalog", str(catalog_path), "--json", *args])
        lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("{") and lines[0].endswith("}"), (args, lines)


def test_refused_clean_exits_3_and_changes_nothing(workspace, cli):
    workspace.add_project("p1", "Unrendered", final=False)
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    code, out = cli("clean", "Unrendered", "--yes")
    assert code == 3 and CLEAN_KEYS <= set(out)
    assert out["deleted_count"] == 0 and out["cleanup_status"] == "pending"
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()
    code, history = cli("history")
    assert history["runs"] == []


def test_all_cleans_every_ready_project(workspace, cli):
    workspace.add_project("p1", "A")
    workspace.add_project("p2", "B")
    workspace.add_project("p3", "C", final=False)
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    code, out = cli("clean", "--all", "--yes")
    assert code == 0 and out["deleted_count"] == 14
    assert set(out["cleanup_status"].values()) == {"complete"}
    assert len(out["cleanup_status"]) == 2
    assert workspace.path(".cache/audio/p3/scene-1.mp3").exists()
    code, out = cli("project", "list")
    assert {p["name"]: p["cleanup_status"] for p in out["projects"]} == {"A": "complete", "B": "complete",
                                                                         "C": "pending"}


def test_scan_one_project(workspace, cli):
    workspace.add_project("p1", "A", scenes=1)
    workspace.add_project("p2", "B", scenes=1)
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    code, out = cli("scan", "A")
    assert code == 0 and [p["name"] for p in out["projects"]] == ["A"]
    # the shared folders are walked once for the whole workspace; B's assembly folder (a folder pattern that
    # covers it whole) is not entered at all, since B is not being scanned
    assert out["files_scanned"] == 12


def test_project_set_auto_cleanup_and_remove(workspace, cli):
    workspace.add_project("p1", "A")
    cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    code, out = cli("project", "set", "A", "--auto-cleanup", "off")
    assert code == 0 and out["project"]["auto_cleanup"] == "off"
    assert out["project"]["auto_cleanup_effective"] is False
    code, out = cli("project", "remove", "A")
    assert code == 0
    assert cli("project", "list")[1]["projects"] == []
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()  # forgetting a project touches no file


# ---------------------------------------------------------------- auto and schedule follow the --yes rule


def _tree_state(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_size for p in root.rglob("*")}


def _rendered_after_registration(workspace, imported, renders: dict[str, float]) -> None:
    """Finals that appear after mediaclean registered the projects (F2: only those are cleaned automatically)."""
    imported()
    for pid, age in renders.items():
        workspace.render_final(pid, age=age)
    imported()


def test_auto_without_yes_says_what_it_would_clean_and_changes_nothing(workspace, imported, cli, catalog):
    from mediaclean_gui.core.history import list_runs

    workspace.add_project("old", "Settled", final=False)
    workspace.add_project("new", "Fresh", final=False)
    _rendered_after_registration(workspace, imported, {"old": 3600, "new": 0})
    before = _tree_state(workspace.root)
    code, out = cli("auto")
    assert code == 0 and out["dry_run"] is True
    (entry,) = out["runs"]
    assert entry["project"] == "Settled" and entry["dry_run"] is True and entry["plan_status"] == "ready"
    assert entry["total_line"].startswith("Will delete 7 files · ")
    assert _tree_state(workspace.root) == before and list_runs(catalog) == []
    code, ran = cli("auto", "--yes")
    assert code == 0 and ran["dry_run"] is False and ran["runs"][0]["deleted_count"] == 7
    assert not workspace.path(".cache/audio/old/scene-1.mp3").exists()


def test_auto_dry_run_text(workspace, imported, catalog, capsys):
    workspace.add_project("old", "Settled", final=False)
    _rendered_after_registration(workspace, imported, {"old": 3600})
    assert main(["--catalog", str(catalog.path), "auto"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Settled: Will delete 7 files · ")
    assert out.rstrip().endswith("Dry run: nothing was deleted. To clean them: mediaclean auto --yes")


def test_schedule_run_due_without_yes_runs_nothing_and_keeps_the_schedule(tmp_path, cli, catalog):
    from mediaclean_gui.core.scheduler import Job, Scheduler

    root = tmp_path / "render-tmp"
    folder = root / "demo_1"
    folder.mkdir(parents=True)
    when = 1_000_000_000
    for n in range(2):
        (folder / f"part-{n}.mp4").write_bytes(b"v" * 100)
        os.utime(folder / f"part-{n}.mp4", (when, when))
    os.utime(folder, (when, when))
    for job in Job:
        cli("prefs", job.pref, "0")
    cli("prefs", "schedule_temp_minutes", "30")
    cli("schedule", "roots", "--add", root)
    for args in (("schedule", "run-due"), ("schedule", "run", "temp")):
        code, out = cli(*args)
        assert code == 0 and out["dry_run"] is True and out["reports"] == []
        (due,) = out["due"]
        assert due["job"] == "temp" and due["would"][0]["what"] == str(root)
        assert due["would"][0]["items"] == 3 and due["would"][0]["bytes"] == 200
        assert sorted(p.name for p in folder.iterdir()) == ["part-0.mp4", "part-1.mp4"]
        assert Scheduler(catalog).state(Job.TEMP).last_run_at is None  # not even claimed
    code, out = cli("schedule", "run-due", "--yes")
    assert code == 0 and out["reports"][0]["deleted_count"] == 2
    assert not folder.exists()


def test_unicode_and_escape_names_in_the_projects_table(workspace, cli, catalog, capsys):
    workspace.add_project("p1")
    cli("project", "add", workspace.root, "--profile", "ai-video-generator", "--external-id", "p1",
        "--name", "Øresund 東京 🎬")
    capsys.readouterr()
    assert main(["--catalog", str(catalog.path), "project", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    from mediaclean_gui.cli.fmt import size, width

    shown = size(cli("project", "list")[1]["projects"][0]["total_bytes"])
    assert row.startswith("1   Øresund 東京 🎬  ")
    assert width(row[:row.index(shown)]) == header.index("SIZE")  # wide characters take two columns: SIZE lines up
    code, out = cli("project", "add", workspace.root, "--profile", "ai-video-generator", "--external-id", "p1",
                    "--name", "Bad\x1b[2Jname")
    assert code == 0 and out["projects"][0]["name"] == "Bad\x1b[2Jname"
    capsys.readouterr()
    main(["--catalog", str(catalog.path), "project", "list"])
    assert "Bad\\x1b[2Jname" in capsys.readouterr().out


def test_the_command_table_names_every_command_and_each_loads_alone():
    """``main`` builds only the asked command's parser: the table must name every command there is."""
    import argparse

    from mediaclean_gui.cli import COMMAND_MODULES, build_parser, command_of

    whole = build_parser()
    (sub,) = [a for a in whole._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(COMMAND_MODULES)
    for command in COMMAND_MODULES:
        (alone,) = [a for a in build_parser(command)._actions if isinstance(a, argparse._SubParsersAction)]
        assert command in alone.choices
    assert command_of(["--catalog", "x.db", "--json", "clean", "p1"]) == "clean"
    assert command_of(["--json"]) is None


def test_a_light_command_imports_only_what_it_uses(tmp_path, workspace):
    """Start-up is part of every command's time: listing and scanning projects must not load the S3
    client, Qt, the run machinery (no run is in flight) or modules that only other commands need. Run as
    a user runs it, in a process of its own, printing what it imported."""
    import subprocess

    workspace.add_project("p1")
    cat = tmp_path / "cat.sqlite3"
    probe = ("import sys; from mediaclean_gui.cli import main; "
             "codes = [main(['--catalog', sys.argv[1], *w.split()]) for w in sys.argv[2:]]; "
             "print(codes, *sorted(sys.modules), sep='\\n', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, str(cat), f"project add {workspace.root} --profile "
                           f"ai-video-generator --external-id p1", "project list", "scan p1"],
                          capture_output=True, text=True, timeout=60)
    codes, *loaded = done.stderr.splitlines()
    assert codes == "[0, 0, 0]", done.stderr
    heavy = {"boto3", "botocore", "awscrt", "PySide6", "send2trash", "logging.handlers", "socket", "pickle",
             "zipfile", "mediaclean_gui.core.s3", "mediaclean_gui.core.run.lifecycle", "mediaclean_gui.gui",
             "mediaclean_gui.core.execute", "mediaclean_gui.core.delete"}
    assert sorted(heavy & set(loaded)) == []
    assert "mediaclean_gui.core.scan" in loaded  # (the probe did run the commands)


def test_help_speaks_the_users_words_not_requirement_ids():
    """Every command's help (the list and each page) says what it does, never which SPEC function or seed
    document it implements ("F4/F5:", "(F5)", "seed 004")."""
    import argparse
    import re

    from mediaclean_gui.cli import build_parser

    ids = re.compile(r"\bF[1-9]\b|\bseed 0\d\d\b|\bAC-\d")
    parser = build_parser()
    texts = [parser.format_help()]
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for command in sub.choices.values():
        texts.append(command.format_help())
        for inner in command._actions:
            if isinstance(inner, argparse._SubParsersAction):
                texts += [p.format_help() for p in inner.choices.values()]
    found = sorted({m.group(0) for text in texts for m in ids.finditer(text)})
    assert found == [], found
