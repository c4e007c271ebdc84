"""No developer jargon where a creator reads: the window's strings and the profiles' rule texts carry no seed
ids, no "AC-0xx", no SPEC function ids (F1–F9 as functions, not the F5 key), no command-line syntax."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import mediaclean_gui
from mediaclean_gui.gui.wording import plain

PACKAGE = Path(mediaclean_gui.__file__).parent
GUI = PACKAGE / "gui"
PROFILES = PACKAGE / "resources" / "profiles"

JARGON = re.compile(
    r"\bseed\b"                               # "seed 002"
    r"|\bAC-\d"                                # "AC-003"
    r"|(?<!press )\bF[1-9]\b"                  # a function id; "press F5" names the key
    r"|(?<![\w-])--[a-z]"                      # a command-line flag
    r"|\bmediaclean (?:remote|project|clean|sweep|upload|prefs|scan|temp|auto|history|lifecycle)\b"
    r"|\b(?:delete_file|delete_dir|delete_mode|max_delete_count|max_delete_share|upload_retention_days)\b",
    re.IGNORECASE)
#: Calls whose string arguments no user reads in the window.
NOT_SHOWN = {"debug", "info", "warning", "error", "exception", "setObjectName", "compile", "add_argument",
             "ArgumentParser", "getLogger"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _hidden(tree: ast.AST) -> set[int]:
    """Strings passed to logging, object names, regular expressions and argparse (the terminal's, not the window's)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in NOT_SHOWN:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    found.update(id(n) for n in ast.walk(arg))
    return found


def jargon_in_sources(folder: Path) -> list[str]:
    """``file:line: text`` of every sentence-like string literal in ``folder``'s modules that carries jargon."""
    hits = []
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree) | _hidden(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                if " " in node.value.strip() and JARGON.search(node.value):
                    hits.append(f"{path.name}:{node.lineno}: {node.value[:100]}")
    return hits


def test_no_jargon_in_the_window_strings():
    assert jargon_in_sources(GUI) == []


def test_no_jargon_in_the_profiles_rule_texts():
    hits = []
    for path in sorted(PROFILES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for artifact in data.get("artifact", []):
            text = str(artifact.get("rule", ""))
            if JARGON.search(text):
                hits.append(f"{path.name}: {text}")
        if JARGON.search(str(data.get("description", ""))):
            hits.append(f"{path.name}: {data['description']}")
    assert hits == []


def test_the_check_can_fail(tmp_path):
    (tmp_path / "bad.py").write_text(
        '"""A docstring may say seed 002 AC-003 (F6)."""\n'
        'import logging\n'
        'logging.getLogger("x").info("seed 002 in the log is fine")\n'
        'LABEL = "scene audio (seed 002 AC-002)"\n'
        'TIP = "add one with mediaclean remote add NAME --bucket B"\n'
        'ERR = "the temp sweep (F6) failed"\n'
        'KEY = "No sizes yet: press F5 to scan the project"\n'
        'PREF = "set preference delete_mode first"\n', encoding="utf-8")
    hits = jargon_in_sources(tmp_path)
    assert [h.split(":")[1] for h in hits] == ["4", "5", "6", "8"], hits


def test_core_texts_shown_in_the_window_lose_their_references():
    assert plain("final output: never deleted (seed 002 AC-006)") == "final output: never deleted"
    assert plain("clip older than the 5-day retention period (modified 6 days ago, seed 004)") == \
        "clip older than the 5-day retention period (modified 6 days ago)"
    assert plain("audio of job 7 (3/3 clips completed): job source cleanup (F5, seed 004)") == \
        "audio of job 7 (3/3 clips completed): job source cleanup"
    assert plain("Missed 4 scheduled run(s) while the app was closed") == \
        "Missed 4 scheduled run(s) while the app was closed"


def test_core_messages_name_the_windows_fields_and_lose_the_command_line():
    refusal = ("Refused: the plan deletes 9 items, more than the limit of 3 (preference max_delete_count). Nothing "
               "was deleted. Review the plan, then confirm it a second time (--confirm-large on the command line) "
               "or raise the limit.")
    assert plain(refusal) == ("Refused: the plan deletes 9 items, more than the limit of 3 (Preferences › Safety › "
                              "“Ask again above”). Nothing was deleted. Review the plan, then confirm it a second "
                              "time or raise the limit.")
    assert plain("No remote named 'x' (known remotes: a). Add one with 'mediaclean remote add'.") == \
        "No remote named 'x' (known remotes: a)."
    assert plain("the sweep deletes 11 objects, more than the limit of 10 (--max-delete)") == \
        "the sweep deletes 11 objects, more than the limit of 10"
    assert plain("Deleted 11 files (0.31 MB), retained 1 recent clips") == \
        "Deleted 11 files (0.31 MB), retained 1 recent clips"
