"""Every bad input is one sentence and the contract's exit code (SPEC section 4), and changes nothing.

The catalogue runs each case twice through the real ``mediaclean`` entry point: with
``--json`` (exactly one JSON object on stdout: ``success`` false, ``error``, ``exit_code``)
and without (the same sentence on stderr, nothing on stdout), and checks that the whole
test folder -- workspace, catalog bytes, temp root, the fake home -- is exactly as before.
Cases whose behaviour depends on the process (a broken pipe, ``/dev/full``, a closed
stdout, an unexpected error's traceback) run ``mediaclean`` as a real subprocess; the
read-only and full file-system cases use a real small tmpfs (skipped, saying why, where
mounting is not allowed).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mediaclean_gui.cli import main
from mediaclean_gui.core.catalog import Catalog, latest_version
from mediaclean_gui.core.catalog_guard import APPLICATION_ID

INT64 = "9,223,372,036,854,775,807"
HUGE = "99999999999999999999999"
PAGE = 4096


# ---------------------------------------------------------------- the world every case starts from


@dataclass
class World:
    tmp: Path
    ws: Path
    catalog: Path
    db: Path
    temp: Path
    home: Path
    values: dict[str, str] = field(default_factory=dict)

    def fmt(self, text: str) -> str:
        names = {"tmp": self.tmp, "ws": self.ws, "catalog": self.catalog, "db": self.db, "temp": self.temp,
                 "home": self.home, **self.values}
        return text.format(**names)


def _quiet_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _old_temp_folder(root: Path, name: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    when = 1_000_000_000
    for n in range(2):
        (folder / f"part-{n}.mp4").write_bytes(b"v" * 1000)
        os.utime(folder / f"part-{n}.mp4", (when, when))
    os.utime(folder, (when, when))


@pytest.fixture
def world(tmp_path: Path, workspace, monkeypatch, capsys) -> World:
    """A workspace with a rendered project imported into a catalog, a temp plan, a remote, a temp root,
    and a fake home folder (``$HOME``) holding someone's wedding demo."""
    workspace.add_project("p1", "Ocean", scenes=1)
    db = workspace.write_db()
    catalog = tmp_path / "catalog.sqlite3"
    temp = tmp_path / "render-tmp"
    _old_temp_folder(temp, "demo_1")
    home = tmp_path / "home"
    (home / "demo_wedding_2019").mkdir(parents=True)
    (home / "demo_wedding_2019" / "the-only-copy.mp4").write_bytes(b"our wedding")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MEDIACLEAN_CATALOG", raising=False)
    for argv in (["project", "import-db", str(db), "--workspace", str(workspace.root)],
                 ["clean", "Ocean"],  # plan 1: a cleanup
                 ["temp", str(temp)],  # plan 2: a temp plan
                 ["remote", "add", "r", "--bucket", "test-bucket", "--endpoint-url", "http://127.0.0.1:9"]):
        code, out, err = _quiet_main(["--catalog", str(catalog), *argv], capsys)
        assert code == 0, err
    return World(tmp_path, workspace.root, catalog, db, temp, home)


def _snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: kind, mode, size and content hash (a link: its target)."""
    found: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, folder)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    found[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size, hashlib.sha256(fh.read()).hexdigest())
            else:
                found[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode))
    return found


# ---------------------------------------------------------------- case preparations


def _damaged(world: World) -> dict[str, str]:
    path = world.tmp / "damaged.sqlite3"
    cat = Catalog(path)
    try:
        with cat.transaction() as conn:
            for n in range(1500):
                conn.execute("INSERT INTO preferences(key, value) VALUES (?, ?)", (f"note{n}", '"' + "x" * 200 + '"'))
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        cat.close()
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        for page in range(3, size // PAGE, 2):
            fh.seek(page * PAGE)
            fh.write(bytes((page * 7 + i) % 256 for i in range(PAGE)))
    return {"catalog": str(path)}


def _not_sqlite(world: World) -> dict[str, str]:
    path = world.tmp / "notes.txt"
    path.write_bytes(b"my shot list, not a database\n" * 200)
    return {"catalog": str(path)}


def _foreign(tables: tuple[str, ...]) -> Callable[[World], dict[str, str]]:
    def make(world: World) -> dict[str, str]:
        path = world.tmp / "other-app.db"
        conn = sqlite3.connect(path)
        for table in tables:
            conn.execute(f"CREATE TABLE {table}(text TEXT)")
            conn.execute(f"INSERT INTO {table} VALUES ('theirs')")
        conn.commit()
        conn.close()
        return {"catalog": str(path)}

    return make


def _newer(world: World) -> dict[str, str]:
    path = world.tmp / "newer.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("CREATE TABLE future(x)")
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.commit()
    conn.close()
    return {"catalog": str(path)}


def _lock(kind: str) -> Callable[[World], dict[str, str]]:
    def make(world: World) -> dict[str, str]:
        lock = world.catalog.with_name(world.catalog.name + ".lock")
        lock.unlink()
        if kind == "link":
            (world.tmp / "script.txt").write_bytes(b"the only copy of the script")
            lock.symlink_to(world.tmp / "script.txt")
        elif kind == "dangling":
            lock.symlink_to(world.tmp / "nowhere" / "x")
        else:
            lock.mkdir()
            (lock / "keep.txt").write_bytes(b"kept")
        return {}

    return make


def _wal_link(world: World) -> dict[str, str]:
    (world.tmp / "journal.txt").write_bytes(b"a user's file")
    world.catalog.with_name(world.catalog.name + "-wal").symlink_to(world.tmp / "journal.txt")
    return {}


def _stored_pref(raw: str) -> Callable[[World], dict[str, str]]:
    def make(world: World) -> dict[str, str]:
        conn = sqlite3.connect(world.catalog)
        conn.execute("INSERT INTO preferences(key, value) VALUES ('auto_cleanup_enabled', ?)", (raw,))
        conn.commit()
        conn.close()
        return {}

    return make


def _env(value: str) -> Callable[[World], dict[str, str]]:
    def make(world: World) -> dict[str, str]:
        os.environ["MEDIACLEAN_CATALOG"] = world.fmt(value)  # undone by the world's monkeypatch.delenv
        return {}

    return make


def _a_file(world: World) -> dict[str, str]:
    (world.tmp / "plain-file").write_bytes(b"not a folder")
    return {}


def _not_sqlite_db(world: World) -> dict[str, str]:
    (world.tmp / "generator.txt").write_bytes(b"id,name\n1,Ocean\n")
    return {}


def _project_named_1(world: World) -> dict[str, str]:
    other = world.tmp / "ws-one"
    (other / ".cache" / "audio" / "one").mkdir(parents=True)
    assert main(["--catalog", str(world.catalog), "project", "add", str(other), "--profile", "ai-video-generator",
                 "--external-id", "one", "--name", "1"]) == 0
    return {}


# ---------------------------------------------------------------- the catalogue

SENT = "(see 'mediaclean {cmd} --help')"


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    words: str  # what the user reads; exact when ``exact``, else contained
    prepare: Callable[[World], dict[str, str]] | None = None
    exact: bool = True
    with_catalog: bool = True  # add --catalog {catalog}


def broad(path: str, why: str, purpose: str) -> str:
    advice = ("the project's own folder (the generator's workspace)" if purpose == "workspace"
              else "the folder your renderer writes its temp folders to")
    return (f"The folder {path} {why}, too broad to be a {purpose} (mediaclean would plan deletions anywhere in it): "
            f"choose {advice}, or confirm that you mean it with --allow-broad-root.")


CASES = [
    # -- the catalog itself
    Case("damaged catalog", ("project", "list"), 2,
         "The catalog {catalog} is damaged (database disk image is malformed), so mediaclean stopped before relying "
         "on it: restore it from a backup (mediaclean keeps a .bak copy beside it from before each upgrade), or start "
         "a new catalog under another file name.", _damaged),
    Case("damaged catalog, a run", ("clean", "--all", "--yes"), 2, "is damaged", _damaged, exact=False),
    Case("not SQLite", ("history",), 2,
         "The catalog {catalog} is not a SQLite database (file is not a database): it was left as it is; choose "
         "another catalog file, or a new file name to start a new catalog.", _not_sqlite),
    Case("another application's database", ("prefs", "settle_seconds", "5"), 2,
         "The file {catalog} is a SQLite database of another application (tables notes), not a mediaclean catalog, "
         "so mediaclean leaves it alone: choose another catalog file, or a new file name to start a new catalog "
         "(nothing was changed).", _foreign(("notes",))),
    Case("another application's database with a projects table", ("project", "list"), 2,
         "is a SQLite database of another application (tables plans, preferences, projects, …)",
         _foreign(("projects", "preferences", "plans", "runs")), exact=False),
    Case("newer catalog", ("clean", "--all", "--yes"), 2, "was written by a newer mediaclean", _newer, exact=False),
    Case("catalog /dev/null", ("--catalog", "/dev/null", "project", "list"), 2,
         "The catalog /dev/null is a device, not a file: choose another catalog file, or a new file name to start a "
         "new catalog (nothing was changed).", with_catalog=False),
    Case("catalog is a folder", ("--catalog", "{tmp}", "history"), 2,
         "The catalog {tmp} is a folder, not a file: give the catalog's file name, e.g. {tmp}/catalog.sqlite3.",
         with_catalog=False),
    Case("catalog in a missing folder", ("--catalog", "{tmp}/missing/catalog.sqlite3", "project", "list"), 2,
         "The folder {tmp}/missing of the catalog {tmp}/missing/catalog.sqlite3 does not exist: create it first, or "
         "check the path.", with_catalog=False),
    Case("catalog path with a trailing slash", ("--catalog", "{tmp}/new.sqlite3/", "project", "list"), 2,
         "The catalog path {tmp}/new.sqlite3/ ends with '/', so it names a folder: give the catalog's file name, e.g. "
         "{tmp}/new.sqlite3/catalog.sqlite3.", with_catalog=False),
    Case("empty catalog path", ("--catalog", "", "project", "list"), 2,
         "The catalog path is empty: give the catalog's file name, e.g. catalog.sqlite3.", with_catalog=False),
    Case("catalog under a file", ("--catalog", "{tmp}/plain-file/catalog.sqlite3", "project", "list"), 2,
         "The catalog {tmp}/plain-file/catalog.sqlite3 cannot be used: a part of its path is a file, not a folder, "
         "so check the path.", _a_file, with_catalog=False),
    Case("MEDIACLEAN_CATALOG is /dev/null", ("project", "list"), 2, "The catalog /dev/null is a device, not a file",
         _env("/dev/null"), exact=False, with_catalog=False),
    Case("MEDIACLEAN_CATALOG is a folder", ("history",), 2, "The catalog {home} is a folder, not a file",
         _env("{home}"), exact=False, with_catalog=False),
    Case("lock file is a link to a user file", ("prefs", "settle_seconds", "5"), 2,
         "The catalog's lock file {catalog}.lock is a symbolic link (to {tmp}/script.txt), which mediaclean never "
         "follows: remove the link and try again (nothing was changed).", _lock("link")),
    Case("lock file is a dangling link", ("project", "import-db", "{db}", "--workspace", "{ws}"), 2,
         "The catalog's lock file {catalog}.lock is a symbolic link (to {tmp}/nowhere/x, which does not exist), "
         "which mediaclean never follows: remove the link and try again (nothing was changed).", _lock("dangling")),
    Case("lock file is a folder", ("scan",), 2,
         "The catalog's lock file {catalog}.lock is a folder, not a file: remove or rename it and try again "
         "(nothing was changed).", _lock("folder")),
    Case("SQLite's -wal is a link", ("project", "list"), 2,
         "SQLite's file {catalog}-wal beside the catalog is a symbolic link, which mediaclean never follows or "
         "replaces: remove it and try again (nothing was changed).", _wal_link),
    Case("a preference another program wrote", ("prefs",), 2,
         "The catalog's preference 'auto_cleanup_enabled' holds 'yes please', which mediaclean cannot read (another "
         "program may have written it): set it again, in the window's Preferences or with 'mediaclean prefs "
         "auto_cleanup_enabled VALUE'.", _stored_pref("yes please")),
    Case("an invalid stored preference, during auto", ("auto", "--yes"), 2,
         "The catalog's preference 'auto_cleanup_enabled' holds '[1, 2]'", _stored_pref("[1, 2]"), exact=False),
    # -- numbers and times, range-checked at the parser
    Case("plan id too large for SQLite", ("clean", "--plan", HUGE, "--yes"), 2,
         f"argument --plan: needs a whole number from 1 to {INT64}, not '{HUGE}' " + SENT.format(cmd="clean")),
    Case("plan id 0", ("temp", "--plan", "0"), 2, f"argument --plan: needs a whole number from 1 to {INT64}, not '0'",
         exact=False),
    Case("history limit too large", ("history", "--limit", "99999999999999999999"), 2,
         f"argument --limit: needs a whole number from 0 to {INT64}, not '99999999999999999999' "
         + SENT.format(cmd="history")),
    Case("history limit negative", ("history", "--limit", "-1"), 2, "argument --limit: needs a whole number from 0",
         exact=False),
    Case("run id too large", ("restore", HUGE), 2, f"argument RUN_ID: needs a whole number from 1 to {INT64}",
         exact=False),
    Case("hours nan", ("temp", "{temp}", "--older-than-hours", "nan"), 2,
         "argument --older-than-hours: needs a number of hours from 0 to 876,000, not 'nan' "
         + SENT.format(cmd="temp")),
    Case("hours inf", ("temp", "{temp}", "--older-than-hours", "inf"), 2,
         "argument --older-than-hours: needs a number of hours from 0 to 876,000, not 'inf'", exact=False),
    Case("hours negative", ("orphans", "--all", "--older-than-hours", "-2"), 2,
         "argument --older-than-hours: needs a number of hours from 0 to 876,000, not '-2'", exact=False),
    Case("as-of in year 1", ("sweep", "--remote", "r", "--as-of", "0001-01-01T00:00:00Z"), 2,
         "argument --as-of: needs a time from 1970 to 2199, such as 2026-12-01T00:00:00Z, not "
         "'0001-01-01T00:00:00Z' " + SENT.format(cmd="sweep")),
    Case("as-of not a time", ("sweep", "--remote", "r", "--as-of", "next tuesday"), 2,
         "argument --as-of: needs an ISO-8601 time such as 2026-12-01T00:00:00Z, not 'next tuesday'", exact=False),
    Case("max-delete negative", ("sweep", "--remote", "r", "--yes", "--max-delete", "-5"), 2,
         f"argument --max-delete: needs a whole number from 0 to {INT64}, not '-5'", exact=False),
    Case("retention of a million years", ("lifecycle", "--remote", "r", "--retention-days", "365000000"), 2,
         "argument --retention-days: needs a whole number of days from 0 to 36,500, not '365000000'", exact=False),
    Case("preference number too large", ("prefs", "settle_seconds", HUGE), 2,
         f"Preference 'settle_seconds' needs a whole number from 0 to 31,536,000, not '{HUGE}'."),
    Case("preference share nan", ("prefs", "max_delete_share", "nan"), 2,
         "Preference 'max_delete_share' needs a number from 0 to 1, not 'nan'."),
    Case("preference negative", ("prefs", "retention_days", "-3"), 2,
         "Preference 'retention_days' needs a whole number from 0 to 36,500, not '-3'."),
    Case("unknown preference", ("prefs", "colour", "blue"), 2, "Unknown preference 'colour'. Known preferences: ",
         exact=False),
    # -- names, paths, plans, remotes
    Case("empty external id", ("project", "add", "{ws}", "--profile", "ai-video-generator", "--external-id", ""), 2,
         "argument --external-id: needs a name, not an empty text " + SENT.format(cmd="project add")),
    Case("blank project name", ("project", "add", "{ws}", "--profile", "ai-video-generator", "--name", "   "), 2,
         "argument --name: needs a name, not an empty text", exact=False),
    Case("very long project argument", ("clean", "x" * 100_000), 2,
         "argument PROJECT: needs a project id or name of at most 1,000 characters, not one of 100,000 "
         + SENT.format(cmd="clean")),
    Case("very long external id", ("project", "add", "{ws}", "--profile", "ai-video-generator", "--external-id",
                                   "p" * 300), 2,
         "argument --external-id: needs a name of at most 255 characters, not one of 300", exact=False),
    Case("unknown profile", ("project", "add", "{ws}", "--profile", "no-such"), 2, "No profile named 'no-such'",
         exact=False),
    Case("a project named like another's id", ("clean", "1", "--yes"), 2,
         "'1' is both the id of project 1 (Ocean) and the name of project 2: name project 1 by its name, or the "
         "other one by its id 2.", _project_named_1),
    Case("project id too large for SQLite", ("scan", HUGE), 2,
         f"argument PROJECT: needs a project id from 1 to {INT64} or a name, not '{HUGE}'", exact=False),
    Case("unknown project", ("clean", "nobody"), 2,
         "No project 'nobody'. 'mediaclean project list' shows the projects."),
    Case("a plan of another kind", ("clean", "--plan", "2", "--yes"), 2,
         "Plan 2 is a temp plan, not a cleanup; run it with the command that made it (mediaclean temp --plan 2 "
         "--yes)."),
    Case("unknown remote", ("sweep", "--remote", "nope"), 2, "No remote named 'nope'", exact=False),
    Case("import-db of a folder", ("project", "import-db", "{ws}", "--workspace", "{ws}"), 2,
         "{ws} is a folder, not a database file: give the path of the generator's SQLite database file."),
    Case("import-db of a missing file", ("project", "import-db", "{tmp}/none.db", "--workspace", "{ws}"), 2,
         "The database file {tmp}/none.db does not exist."),
    Case("import-db of a text file", ("project", "import-db", "{tmp}/generator.txt", "--workspace", "{ws}"), 2,
         "{tmp}/generator.txt is not a readable SQLite database (file is not a database).", _not_sqlite_db),
    Case("import-db of /dev/null", ("project", "import-db", "/dev/null", "--workspace", "{ws}"), 2,
         "/dev/null is not a regular file: give the path of the generator's SQLite database file."),
    # -- roots too broad (exit 3)
    Case("workspace /", ("project", "add", "/", "--profile", "ai-video-generator"), 3,
         broad("/", "is the whole file system", "workspace")),
    Case("workspace $HOME", ("project", "add", "{home}", "--profile", "ai-video-generator", "--external-id", "p1"), 3,
         broad("{home}", "is your home folder", "workspace")),
    Case("temp $HOME", ("temp", "{home}", "--older-than-hours", "0"), 3,
         broad("{home}", "is your home folder", "temp root")),
    Case("temp /", ("temp", "/", "--yes"), 3, broad("/", "is the whole file system", "temp root")),
    Case("import into workspace /usr", ("project", "import-db", "{db}", "--workspace", "/usr"), 3,
         broad("/usr", "is a system folder", "workspace")),
    Case("scheduled temp root $HOME", ("schedule", "roots", "--add", "{home}"), 3,
         "The folder {home} is your home folder, too broad to be a temp root (mediaclean would plan deletions "
         "anywhere in it): a scheduled job never sweeps such a folder, so choose the folder your renderer writes its "
         "temp folders to, or sweep this one by hand with 'mediaclean temp ROOT --allow-broad-root'."),
    # -- usage
    Case("unknown command", ("frobnicate",), 2, "argument COMMAND: invalid choice: 'frobnicate'", exact=False),
    Case("project and --all", ("clean", "Ocean", "--all"), 2,
         "Name one PROJECT, or --all, or --plan ID (see 'mediaclean clean --help')."),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, world: World, capsys) -> None:
    if case.prepare is not None:
        world.values.update(case.prepare(world))
    catalog = world.values.get("catalog", str(world.catalog))
    args = [world.fmt(a) for a in case.args]
    if case.with_catalog:
        args = ["--catalog", catalog, *args]
    words = world.fmt(case.words)
    before = _snapshot(world.tmp)

    code, out, err = _quiet_main([*args, "--json"], capsys)
    assert code == case.code, err
    lines = out.splitlines()
    assert len(lines) == 1, f"--json must print exactly one JSON object, got {out!r}"
    payload = json.loads(lines[0])
    assert set(payload) == {"success", "error", "exit_code"}
    assert payload["success"] is False and payload["exit_code"] == case.code
    if case.exact:
        assert payload["error"] == words
    else:
        assert words in payload["error"]
    assert "\n" not in payload["error"] and "Traceback" not in err
    assert err == f"mediaclean: {payload['error']}\n"

    code, out, err = _quiet_main(args, capsys)
    assert (code, out, err) == (case.code, "", f"mediaclean: {payload['error']}\n")
    assert _snapshot(world.tmp) == before


def test_the_catalogue_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


# ---------------------------------------------------------------- a real small file system: read-only, full


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """``tmpfs(name, size)`` mounts a fresh tmpfs of ``size`` (e.g. "512k") at ``tmp_path/name``."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        where = tmp_path / name
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): needs root")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    streams = {} if "stdout" in kwargs else {"capture_output": True}
    return subprocess.run([sys.executable, "-m", "mediaclean_gui.cli", *argv], text=True, timeout=120,
                          **streams, **kwargs)


def test_read_only_catalog(world: World, tmpfs) -> None:
    where = tmpfs("ro", "4m")
    catalog = where / "catalog.sqlite3"
    done = _run(["--catalog", str(catalog), "project", "import-db", str(world.db), "--workspace", str(world.ws)])
    assert done.returncode == 0, done.stderr
    remount = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only: {remount.stderr.strip()}")
    before = _snapshot(world.tmp)
    sentence = (f"The catalog {catalog} is on a read-only file system, so mediaclean cannot record anything in it: "
                f"make it and its folder writable, or choose another catalog file, or a new file name to start a new "
                f"catalog (nothing was changed).")
    for argv in (["project", "list"], ["clean", "Ocean", "--yes"], ["prefs", "settle_seconds", "5"]):
        done = _run(["--catalog", str(catalog), "--json", *argv])
        assert done.returncode == 2
        assert json.loads(done.stdout) == {"success": False, "error": sentence, "exit_code": 2}
        assert done.stderr == f"mediaclean: {sentence}\n"
    assert _snapshot(world.tmp) == before
    assert (world.ws / ".cache/audio/p1/scene-1.mp3").exists()


def _big_generator_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE projects(id TEXT, name TEXT);
        CREATE TABLE audio_files(project_id TEXT, file_path TEXT);
        CREATE TABLE visual_suggestions(project_id TEXT, provider TEXT, video_id TEXT, default_segment_path TEXT);
        CREATE TABLE rendered_videos(project_id TEXT, file_path TEXT, thumbnail_path TEXT);
    """)
    for p in range(200):
        conn.execute("INSERT INTO projects VALUES (?, ?)", (f"p{p}", f"Project {p}"))
        conn.executemany("INSERT INTO audio_files VALUES (?, ?)",
                         [(f"p{p}", f".cache/audio/p{p}/scene-{n}-" + "y" * 100 + ".mp3") for n in range(30)])
    conn.commit()
    conn.close()


def test_full_file_system_during_import(world: World, tmpfs) -> None:
    where = tmpfs("full", "400k")
    catalog = where / "catalog.sqlite3"
    assert _run(["--catalog", str(catalog), "project", "list"]).returncode == 0
    big = world.tmp / "big-generator.db"
    _big_generator_db(big)
    before = _snapshot(world.tmp)
    done = _run(["--catalog", str(catalog), "--json", "project", "import-db", str(big), "--workspace", str(world.ws)])
    sentence = (f"The disk that holds {catalog} is full, so mediaclean stopped: free some space and run the command "
                f"again (a run it interrupted is settled at the next start).")
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout) == {"success": False, "error": sentence, "exit_code": 2}
    assert done.stderr == f"mediaclean: {sentence}\n"
    assert _snapshot(world.tmp) == before  # the transaction was rolled back: not half an import
    listing = _run(["--catalog", str(catalog), "--json", "project", "list"])
    assert listing.returncode == 0 and json.loads(listing.stdout) == {"projects": []}


def test_full_file_system_before_a_run(world: World, tmpfs) -> None:
    """The catalog's disk fills between the preview and the run: one sentence, and nothing was deleted
    (the run is written to the catalog before the first deletion, invariant 6)."""
    where = tmpfs("full", "600k")
    catalog = where / "catalog.sqlite3"
    assert _run(["--catalog", str(catalog), "project", "import-db", str(world.db), "--workspace",
                 str(world.ws)]).returncode == 0
    preview = _run(["--catalog", str(catalog), "--json", "clean", "Ocean"])
    plan_id = json.loads(preview.stdout)["plan_id"]
    with open(where / "filler", "wb", buffering=0) as fh:  # fill the disk to the last block
        try:
            while fh.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    before = _snapshot(world.ws)
    done = _run(["--catalog", str(catalog), "--json", "clean", "--plan", str(plan_id), "--yes"])
    sentence = (f"The disk that holds {catalog} is full, so mediaclean stopped: free some space and run the command "
                f"again (a run it interrupted is settled at the next start).")
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout) == {"success": False, "error": sentence, "exit_code": 2}
    assert done.stderr == f"mediaclean: {sentence}\n"
    assert _snapshot(world.ws) == before


# ---------------------------------------------------------------- stdout closed, broken or full; a bug


def _settled_project(world: World) -> list[str]:
    return ["--catalog", str(world.catalog), "clean", "Ocean", "--yes"]


NOTE = ("mediaclean: the output could not be written ({why}); the command itself finished ('mediaclean history' "
        "shows what a run did).\n")


def test_a_broken_pipe_after_the_deletions_is_exit_0(world: World) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mediaclean_gui.cli", *_settled_project(world)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader went away ('| true', '| head -0')
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert err == NOTE.format(why="broken pipe")
    assert not (world.ws / ".cache/audio/p1/scene-1.mp3").exists()  # the run happened
    history = _run(["--catalog", str(world.catalog), "--json", "history"])
    assert json.loads(history.stdout)["runs"][0]["status"] == "complete"


def test_a_full_stdout_is_exit_0(world: World) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = _run(["--json", *_settled_project(world)], stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 0 and done.stderr == NOTE.format(why="no space left on device")
    assert not (world.ws / ".cache/audio/p1/scene-1.mp3").exists()


def test_a_closed_stdout_is_exit_0(world: World) -> None:
    """Started with stdout closed (a shell's '>&-')."""
    done = subprocess.run([sys.executable, "-m", "mediaclean_gui.cli", *_settled_project(world)],
                          stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=lambda: os.close(1))
    assert done.returncode == 0 and done.stderr == NOTE.format(why="stdout is closed")
    assert not (world.ws / ".cache/audio/p1/scene-1.mp3").exists()


BUG = """
import sys
import mediaclean_gui.cli.settings as settings
def broken(catalog, limit):
    return [{"id": 1}][limit]  # an IndexError: a bug, not the world's fault
settings.list_runs = broken
from mediaclean_gui.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_an_unexpected_error_is_one_sentence_naming_the_log_file(world: World, as_json: bool) -> None:
    log_file = Path(os.environ["XDG_STATE_HOME"]) / "mediaclean" / "log" / "mediaclean.log"
    argv = ["--catalog", str(world.catalog), *(["--json"] if as_json else []), "history", "--limit", "5"]
    done = subprocess.run([sys.executable, "-c", BUG, *argv], capture_output=True, text=True, timeout=120)
    sentence = (f"an unexpected error stopped the command (IndexError: list index out of range); its details are in "
                f"{log_file}, please report it with that file.")
    assert done.returncode == 2
    assert done.stderr == f"mediaclean: {sentence}\n"  # no traceback on the terminal
    assert done.stdout == (json.dumps({"success": False, "error": sentence, "exit_code": 2}) + "\n" if as_json else "")
    logged = log_file.read_text(encoding="utf-8")
    assert "unexpected error in 'mediaclean history'" in logged and "Traceback (most recent call last)" in logged
    assert 'File "<string>", line 5, in broken' in logged and "IndexError: list index out of range" in logged


INTERRUPT = """
import os, signal, sys, time
import mediaclean_gui.cli.settings as settings
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal, even if started with SIGINT ignored
def interrupted(catalog, limit):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the command works
    time.sleep(30)
settings.list_runs = interrupted
from mediaclean_gui.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_ctrl_c_is_one_sentence_and_one_json_object(world: World) -> None:
    done = subprocess.run([sys.executable, "-c", INTERRUPT, "--catalog", str(world.catalog), "--json", "history"],
                          capture_output=True, text=True, timeout=120)
    sentence = "interrupted; what a run had done so far is recorded ('mediaclean history' shows it)."
    assert done.returncode == 130
    assert json.loads(done.stdout) == {"success": False, "error": sentence, "exit_code": 130}
    assert done.stderr == f"mediaclean: {sentence}\n"


# ---------------------------------------------------------------- names that try to fake preview lines


def test_control_characters_in_names_are_escaped_in_the_preview(world: World, capsys) -> None:
    evil = world.ws / ".cache/videos/p1/scene-1-x\n   -     1.0 kB  final.mp4\x1b[2K\x1b[1A.mp4"
    evil.write_bytes(b"v" * 1000)
    code, out, err = _quiet_main(["--catalog", str(world.catalog), "clean", "Ocean"], capsys)
    assert code == 0, err
    assert "\x1b" not in out
    assert "scene-1-x\\n   -     1.0 kB  final.mp4\\x1b[2K\\x1b[1A.mp4" in out
    assert not any(line.strip().endswith("final.mp4") for line in out.splitlines())  # no faked line
    code, out, err = _quiet_main(["--catalog", str(world.catalog), "--json", "clean", "Ocean"], capsys)
    targets = [i["target"] for i in json.loads(out)["items"]]
    assert str(evil) in targets  # JSON keeps the real name (JSON escapes it itself)
