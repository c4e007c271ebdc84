"""The catalog: schema, migrations with a backup copy, newer catalogs refused, the writer lock, preferences."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mediaclean_gui.core import catalog as catalog_module
from mediaclean_gui.core.catalog import (
    Catalog,
    display_path,
    from_db_path,
    iso,
    latest_version,
    parse_iso,
    to_db_path,
)
from mediaclean_gui.core.catalog_guard import APPLICATION_ID
from mediaclean_gui.core.errors import CatalogLocked, CatalogTooNew, CatalogUnusable, ConfigError


def test_new_catalog_has_the_latest_schema_in_wal_mode(catalog_path):
    cat = Catalog(catalog_path)
    try:
        assert cat.schema_version == latest_version() >= 1
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        tables = {r[0] for r in cat.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"preferences", "projects", "role_sizes", "artifacts", "plans", "plan_items", "plan_kept", "runs",
                "run_items"} <= tables
    finally:
        cat.close()
    assert list(catalog_path.parent.glob("*.bak")) == []  # nothing to back up for a new catalog


def test_the_run_journal_has_its_primary_key_as_its_only_index(catalog_path):
    """Every outcome a run settles rewrites its run_items row: a second index on the outcome made starting and
    settling 100,000 items slower (schema 9 drops it); queries by outcome read the run by its key."""
    cat = Catalog(catalog_path)
    try:
        indexes = [r[1] for r in cat.conn.execute("PRAGMA index_list(run_items)")]
        assert indexes == ["sqlite_autoindex_run_items_1"]
        plan = [r[3] for r in cat.conn.execute(
            "EXPLAIN QUERY PLAN SELECT pi.id FROM run_items ri JOIN plan_items pi ON pi.id = ri.plan_item_id "
            "WHERE ri.run_id = 1 AND ri.outcome = 'pending' AND ri.plan_item_id > 5 ORDER BY ri.plan_item_id "
            "LIMIT 10")]
        assert any("sqlite_autoindex_run_items_1 (run_id=? AND plan_item_id>?)" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan  # a page is read in key order, not sorted
    finally:
        cat.close()


def _newer(path: Path, version: int) -> bytes:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # as a newer mediaclean writes it
    conn.execute("CREATE TABLE future(x)")
    conn.execute("INSERT INTO future VALUES ('from the future')")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_newer_catalog_is_refused_and_left_byte_identical(catalog_path):
    newer = latest_version() + 5
    before = _newer(catalog_path, newer)
    with pytest.raises(CatalogTooNew) as err:
        Catalog(catalog_path)
    assert str(err.value) == (
        f"The catalog {catalog_path} was written by a newer mediaclean (schema {newer}; this version knows schema "
        f"{latest_version()} at most). Upgrade mediaclean, or choose another catalog file. The file was not "
        "changed."
    )
    assert catalog_path.read_bytes() == before
    assert sorted(p.name for p in catalog_path.parent.iterdir()) == [catalog_path.name]


def test_newer_catalog_through_the_cli(catalog_path, cli):
    before = _newer(catalog_path, latest_version() + 1)
    for args in (("project", "list"), ("history",), ("prefs", "settle_seconds", "5"), ("clean", "--all", "--yes")):
        code, out = cli(*args)
        assert code == 2 and "was written by a newer mediaclean" in out["error"]
        assert catalog_path.read_bytes() == before


def test_not_a_database_is_a_clear_error(catalog_path, cli):
    catalog_path.write_bytes(b"\x00garbage" * 600)
    before = catalog_path.read_bytes()
    code, out = cli("history")
    assert code == 2
    assert out["error"].startswith(f"The catalog {catalog_path} is not a SQLite database")
    assert catalog_path.read_bytes() == before


@pytest.mark.parametrize("tables", [("notes",), ("projects", "preferences", "plans", "runs")],
                         ids=["unrelated", "same table names"])
def test_another_applications_database_is_refused_and_left_byte_identical(catalog_path, cli, tables):
    conn = sqlite3.connect(catalog_path)
    for table in tables:
        conn.execute(f"CREATE TABLE {table}(text TEXT)")
        conn.execute(f"INSERT INTO {table} VALUES ('written before mediaclean')")
    conn.commit()
    conn.close()
    original = catalog_path.read_bytes()
    some = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
    sentence = (f"The file {catalog_path} is a SQLite database of another application (tables {some}), not a "
                f"mediaclean catalog, so mediaclean leaves it alone: choose another catalog file, or a new file name "
                f"to start a new catalog (nothing was changed).")
    with pytest.raises(CatalogUnusable) as err:
        Catalog(catalog_path)
    assert str(err.value) == sentence
    for args in (("project", "list"), ("prefs", "settle_seconds", "5"), ("history",)):
        code, out = cli(*args)
        assert (code, out) == (2, {"success": False, "error": sentence, "exit_code": 2})
    assert catalog_path.read_bytes() == original
    assert sorted(p.name for p in catalog_path.parent.iterdir()) == [catalog_path.name]


def test_a_new_catalog_is_marked_as_mediacleans(catalog_path):
    Catalog(catalog_path).close()
    conn = sqlite3.connect(catalog_path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID == 0x4D434C4E
    finally:
        conn.close()


def test_a_catalog_from_before_the_application_id_is_still_ours(catalog_path):
    cat = Catalog(catalog_path)
    cat.set_pref("settle_seconds", 11)
    cat.close()
    conn = sqlite3.connect(catalog_path)
    conn.execute("PRAGMA application_id = 0")  # as mediaclean 0.1 left it
    conn.close()
    cat = Catalog(catalog_path)
    try:
        assert cat.pref("settle_seconds") == 11
    finally:
        cat.close()


def test_migration_from_an_older_schema(catalog_path, monkeypatch):
    """Add a migration after the shipped ones: the real code path backs up, migrates, keeps the data."""
    cat = Catalog(catalog_path)
    cat.set_pref("settle_seconds", 7)
    cat.close()
    shipped = catalog_module._migrations()
    nxt = shipped[-1][0] + 1
    monkeypatch.setattr(catalog_module, "_migrations", lambda: shipped + [
        (nxt, "labels", "-- a test migration\nALTER TABLE projects ADD COLUMN label TEXT;\n"
                        "CREATE TABLE labels(name TEXT PRIMARY KEY);\nINSERT INTO labels VALUES ('x');")])

    cat = Catalog(catalog_path)
    try:
        assert cat.schema_version == nxt
        assert cat.pref("settle_seconds") == 7
        assert "label" in {r[1] for r in cat.conn.execute("PRAGMA table_info(projects)")}
        assert [tuple(r) for r in cat.conn.execute("SELECT name FROM labels")] == [("x",)]
    finally:
        cat.close()
    backups = list(catalog_path.parent.glob(f"{catalog_path.name}.v{nxt - 1}-*.bak"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    try:
        assert old.execute("PRAGMA user_version").fetchone()[0] == nxt - 1
        assert old.execute("SELECT value FROM preferences WHERE key = 'settle_seconds'").fetchone() == ("7",)
    finally:
        old.close()


def test_migration_backup_never_writes_through_a_planted_link(tmp_path, catalog_path, monkeypatch):
    import datetime as dt

    cat = Catalog(catalog_path)
    cat.set_pref("settle_seconds", 7)
    cat.close()
    shipped = catalog_module._migrations()
    nxt = shipped[-1][0] + 1
    monkeypatch.setattr(catalog_module, "_migrations", lambda: shipped + [(nxt, "more", "CREATE TABLE more(x);")])
    monkeypatch.setattr(catalog_module, "utcnow", lambda: dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
    user_file = _precious(tmp_path / "edit-decisions.txt")
    backup = catalog_path.with_name(f"{catalog_path.name}.v{nxt - 1}-20310506T070809Z.bak")
    backup.symlink_to(user_file)
    with pytest.raises(CatalogUnusable) as err:
        Catalog(catalog_path)
    assert str(err.value) == (
        f"Something named {backup} is already where the catalog's backup copy goes, so the catalog was not "
        f"upgraded: move it away and try again (nothing was changed).")
    assert user_file.read_bytes() == PRECIOUS
    backup.unlink()
    cat = Catalog(catalog_path)
    try:
        assert cat.schema_version == nxt and cat.pref("settle_seconds") == 7
    finally:
        cat.close()
    assert backup.is_file() and not backup.is_symlink()


def test_failed_migration_rolls_back(catalog_path, monkeypatch):
    cat = Catalog(catalog_path)
    cat.set_pref("settle_seconds", 9)
    cat.close()
    shipped = catalog_module._migrations()
    nxt = shipped[-1][0] + 1
    monkeypatch.setattr(catalog_module, "_migrations", lambda: shipped + [
        (nxt, "broken", "ALTER TABLE projects ADD COLUMN half TEXT;\nALTER TABLE no_such_table ADD COLUMN x;")])
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        Catalog(catalog_path)
    monkeypatch.undo()
    cat = Catalog(catalog_path)
    try:
        assert cat.schema_version == nxt - 1
        assert "half" not in {r[1] for r in cat.conn.execute("PRAGMA table_info(projects)")}
        assert cat.pref("settle_seconds") == 9
    finally:
        cat.close()
    assert len(list(catalog_path.parent.glob("*.bak"))) == 1


# ---------------------------------------------------------------- invariant 9: one writer

HOLDER = """
import sys
from mediaclean_gui.core.catalog import Catalog
cat = Catalog(sys.argv[1])
with cat.writer("long clean of project Ocean"):
    print("holding", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


@pytest.fixture
def holder(catalog_path):
    """Another process holding the catalog's writer lock until told to let go."""
    Catalog(catalog_path).close()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(catalog_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"

    def release() -> None:
        if proc.poll() is None:
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "released"
            proc.wait(timeout=30)

    proc.release = release  # type: ignore[attr-defined]
    yield proc
    try:
        release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()


def test_second_writer_gets_catalog_locked_naming_the_holder(catalog_path, holder):
    cat = Catalog(catalog_path, lock_timeout=0.3)
    try:
        with pytest.raises(CatalogLocked) as err:
            with cat.writer("plan cleanup"):
                pytest.fail("got the lock while another process holds it")
        message = str(err.value)
        assert f"is in use by process {holder.pid} (long clean of project Ocean, since " in message
        assert message.endswith("Wait for it to finish and try again.")
        assert cat.lock_holder()["pid"] == holder.pid
        assert err.value.exit_code == 3
    finally:
        cat.close()


def test_second_writer_waits_for_the_first(catalog_path, holder):
    cat = Catalog(catalog_path)
    got = threading.Event()

    def second() -> None:
        with cat.writer("second", timeout=60):
            got.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        assert not got.wait(0.5)  # still waiting while the first holds the lock
        holder.release()
        assert got.wait(30)
    finally:
        thread.join(60)
        cat.close()
    assert cat.lock_holder() is None  # the holder record goes on release
    assert cat.lock_path.read_bytes() == b""  # and the lock file itself was never written


def test_second_writer_through_the_cli_exits_3(catalog_path, holder, cli, monkeypatch, workspace):
    import mediaclean_gui.cli as cli_module

    workspace.add_project("p1")
    monkeypatch.setattr(cli_module, "Catalog", functools.partial(Catalog, lock_timeout=0.3))
    code, out = cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    assert code == 3
    assert f"is in use by process {holder.pid} (long clean of project Ocean" in out["error"]
    # reading does not need the lock
    code, out = cli("history")
    assert code == 0 and out["runs"] == []
    holder.release()
    code, out = cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    assert code == 0 and out["imported"] == 1


def test_writer_is_reentrant_in_one_thread(catalog):
    with catalog.writer("outer"):
        with catalog.writer("inner"):
            assert catalog.lock_holder()["purpose"] == "outer"
        assert catalog.lock_holder()["pid"] == os.getpid()
    assert catalog.lock_holder() is None


# ---------------------------------------------------------------- invariant 17: the lock file is never followed

PRECIOUS = b"the only copy of my shot list\n" * 100


def _precious(path: Path) -> Path:
    path.write_bytes(PRECIOUS)
    return path


def _tree(folder: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry of a folder: its kind and content (a link's target), to compare before and after."""
    out = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            out[entry.name] = ("link", os.readlink(entry).encode())
        elif entry.is_dir():
            out[entry.name] = ("dir", b"")
        else:
            out[entry.name] = ("file", entry.read_bytes())
    return out


@pytest.mark.parametrize("existing", [False, True], ids=["new catalog", "existing catalog"])
def test_lock_symlink_to_a_user_file_is_refused_and_the_file_kept(tmp_path, catalog_path, cli, existing):
    if existing:
        Catalog(catalog_path).close()
    user_file = _precious(tmp_path / "shot-list.txt")
    catalog_path.with_name(catalog_path.name + ".lock").unlink(missing_ok=True)
    catalog_path.with_name(catalog_path.name + ".lock").symlink_to(user_file)
    before = _tree(tmp_path)
    for args in (("project", "list"), ("prefs", "settle_seconds", "5"), ("scan",)):
        code, out = cli(*args)
        assert (code, out["success"], out["exit_code"]) == (2, False, 2)
        assert out["error"] == (
            f"The catalog's lock file {catalog_path}.lock is a symbolic link (to {user_file}), which mediaclean "
            f"never follows: remove the link and try again (nothing was changed).")
    assert user_file.read_bytes() == PRECIOUS
    assert _tree(tmp_path) == before  # not even an empty catalog file was created


def test_lock_symlink_refused_by_a_real_process(tmp_path, catalog_path):
    user_file = _precious(tmp_path / "notes.txt")
    catalog_path.with_name(catalog_path.name + ".lock").symlink_to("notes.txt")
    done = subprocess.run([sys.executable, "-m", "mediaclean_gui.cli", "--catalog", str(catalog_path), "project",
                           "list"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"mediaclean: The catalog's lock file {catalog_path}.lock is a symbolic link (to "
                           f"notes.txt), which mediaclean never follows: remove the link and try again (nothing "
                           f"was changed).\n")
    assert user_file.read_bytes() == PRECIOUS


def test_dangling_lock_symlink_creates_nothing_at_its_target(tmp_path, catalog_path, cli):
    Catalog(catalog_path).close()
    target = tmp_path / "elsewhere" / "never.txt"
    (tmp_path / "elsewhere").mkdir()
    catalog_path.with_name(catalog_path.name + ".lock").unlink()
    catalog_path.with_name(catalog_path.name + ".lock").symlink_to(target)
    code, out = cli("prefs", "settle_seconds", "5")
    assert code == 2 and out["error"] == (
        f"The catalog's lock file {catalog_path}.lock is a symbolic link (to {target}, which does not exist), "
        f"which mediaclean never follows: remove the link and try again (nothing was changed).")
    assert not os.path.lexists(target) and list((tmp_path / "elsewhere").iterdir()) == []
    with pytest.raises(CatalogUnusable):
        with Catalog(catalog_path).writer("direct"):
            pytest.fail("took a lock through a dangling link")
    assert not os.path.lexists(target)


def test_lock_path_that_is_a_folder(tmp_path, catalog_path, cli):
    lock = catalog_path.with_name(catalog_path.name + ".lock")
    lock.mkdir()
    (lock / "keep.txt").write_bytes(PRECIOUS)
    code, out = cli("project", "list")
    assert code == 2 and out["error"] == (
        f"The catalog's lock file {lock} is a folder, not a file: remove or rename it and try again "
        f"(nothing was changed).")
    assert (lock / "keep.txt").read_bytes() == PRECIOUS and not catalog_path.exists()


def test_hard_linked_lock_never_touches_the_other_name(tmp_path, catalog_path, cli, workspace):
    Catalog(catalog_path).close()
    user_file = _precious(tmp_path / "script.txt")
    catalog_path.with_name(catalog_path.name + ".lock").unlink()
    os.link(user_file, catalog_path.with_name(catalog_path.name + ".lock"))
    workspace.add_project("p1")
    code, out = cli("project", "import-db", workspace.write_db(), "--workspace", workspace.root)
    assert code == 0 and out["imported"] == 1
    code, out = cli("prefs", "settle_seconds", "5")
    assert code == 0
    assert user_file.read_bytes() == PRECIOUS and os.stat(user_file).st_nlink == 2


def test_holder_record_that_is_a_link_is_replaced_not_followed(tmp_path, catalog):
    user_file = _precious(tmp_path / "plan.txt")
    record = catalog.lock_path.with_name(catalog.lock_path.name + "-holder")
    record.symlink_to(user_file)
    with catalog.writer("write through?"):
        assert not record.is_symlink()
        assert catalog.lock_holder()["purpose"] == "write through?"
    assert user_file.read_bytes() == PRECIOUS
    assert not os.path.lexists(record)


def test_the_lock_file_is_never_written_while_held(catalog_path, holder):
    lock = catalog_path.with_name(catalog_path.name + ".lock")
    assert lock.read_bytes() == b""  # who holds it is in the holder record, not in the lock file
    cat = Catalog(catalog_path, lock_timeout=0.2)
    try:
        assert cat.lock_holder()["pid"] == holder.pid
        with pytest.raises(CatalogLocked, match=f"in use by process {holder.pid} "):
            with cat.writer("second"):
                pass
    finally:
        cat.close()
    assert lock.read_bytes() == b""


def test_unopenable_lock_file_is_a_clear_error(catalog_path, cli):
    """Mode 000 stops an ordinary user; root opens any file, so as root the lock gets the immutable attribute."""
    Catalog(catalog_path).close()
    lock = catalog_path.with_name(catalog_path.name + ".lock")
    lock.write_bytes(b"")
    if os.geteuid() != 0:
        lock.chmod(0o000)
        undo = functools.partial(lock.chmod, 0o644)
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(lock)], capture_output=True).returncode == 0:
        undo = functools.partial(subprocess.run, ["chattr", "-i", str(lock)], check=True)
    else:
        pytest.skip("running as root on a file system without 'chattr +i': nothing makes a file unopenable")
    try:
        before = catalog_path.read_bytes()
        code, out = cli("prefs", "settle_seconds", "5")
        assert code == 2 and out["error"] == (
            f"The catalog's lock file {lock} cannot be opened (permission denied): give your user read and write "
            f"access to it and its folder, or choose another catalog file (nothing was changed).")
        assert catalog_path.read_bytes() == before
    finally:
        undo()


# ---------------------------------------------------------------- preferences


def test_preferences_defaults_and_round_trip(catalog, cli):
    prefs = catalog.prefs()
    assert prefs["auto_cleanup_enabled"] is True and prefs["delete_mode"] == "permanent"
    assert prefs["settle_seconds"] == 60 and prefs["max_delete_count"] == 10000
    assert catalog.set_pref("auto_cleanup_enabled", "off") is False
    assert catalog.set_pref("max_delete_share", "0.25") == 0.25
    assert catalog.pref("auto_cleanup_enabled") is False
    code, out = cli("prefs", "settle_seconds", "120")
    assert (code, out) == (0, {"prefs": {"settle_seconds": 120}})
    code, out = cli("prefs", "settle_seconds")
    assert (code, out) == (0, {"prefs": {"settle_seconds": 120}})
    code, out = cli("prefs")
    assert code == 0 and out["prefs"]["settle_seconds"] == 120 and out["prefs"]["max_delete_share"] == 0.25


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("no_such_pref", "1", "Unknown preference 'no_such_pref'. Known preferences: "),
        ("settle_seconds", "soon",
         "Preference 'settle_seconds' needs a whole number from 0 to 31,536,000, not 'soon'."),
        ("settle_seconds", "-5", "Preference 'settle_seconds' needs a whole number from 0 to 31,536,000, not '-5'."),
        ("max_delete_count", "99999999999999999999", "Preference 'max_delete_count' needs a whole number from 0 to "
                                                     "9,223,372,036,854,775,807, not '99999999999999999999'."),
        ("retention_days", "1000000", "Preference 'retention_days' needs a whole number from 0 to 36,500, "
                                      "not '1000000'."),
        ("schedule_auto_minutes", "5" * 200, "Preference 'schedule_auto_minutes' needs a whole number from 0 to "
                                             "525,600, not '5555555555555555555555555555555555555555…'."),
        ("max_delete_share", "1.5", "Preference 'max_delete_share' needs a number from 0 to 1, not '1.5'."),
        ("max_delete_share", "nan", "Preference 'max_delete_share' needs a number from 0 to 1, not 'nan'."),
        ("auto_cleanup_enabled", "perhaps", "Preference 'auto_cleanup_enabled' needs true or false, not 'perhaps'."),
        ("delete_mode", "shred", "Preference 'delete_mode' must be one of permanent, trash, not 'shred'."),
    ],
)
def test_bad_preferences_are_refused(catalog, cli, key, value, message):
    assert catalog_module.pref_range("settle_seconds") == (0, 31_536_000)
    assert catalog_module.pref_range("delete_mode") is None
    with pytest.raises(ConfigError) as err:
        catalog.set_pref(key, value)
    assert str(err.value).startswith(message)
    code, out = cli("prefs", key, value)
    assert code == 2 and out["error"].startswith(message)


@pytest.mark.parametrize("stored", ["not json", '"maybe"', "[1, 2]", '""'])
def test_a_preference_another_program_wrote_is_one_sentence_and_can_be_set_again(catalog, cli, stored):
    catalog.conn.execute("INSERT INTO preferences(key, value) VALUES ('auto_cleanup_enabled', ?)", (stored,))
    sentence = (f"The catalog's preference 'auto_cleanup_enabled' holds {stored!r}, which mediaclean cannot read "
                f"(another program may have written it): set it again, in the window's Preferences or with "
                f"'mediaclean prefs auto_cleanup_enabled VALUE'.")
    for args in (("prefs",), ("prefs", "auto_cleanup_enabled")):
        code, out = cli(*args)
        assert (code, out) == (2, {"success": False, "error": sentence, "exit_code": 2})
    with pytest.raises(ConfigError, match="cannot read"):
        catalog.pref("auto_cleanup_enabled")  # never guessed as the default (on)
    code, out = cli("prefs", "auto_cleanup_enabled", "off")
    assert (code, out) == (0, {"prefs": {"auto_cleanup_enabled": False}})
    assert catalog.pref("auto_cleanup_enabled") is False


# ---------------------------------------------------------------- small helpers


def test_paths_survive_as_bytes():
    raw = b"/w/scene-\xff\xfe.mp4"
    text = os.fsdecode(raw)
    assert to_db_path(text) == raw and from_db_path(raw) == text
    assert display_path(text) == "/w/scene-\ufffd\ufffd.mp4"
    assert display_path(raw) == "/w/scene-\ufffd\ufffd.mp4"


def test_iso_times_are_utc():
    stamp = iso()
    assert stamp.endswith("Z") and len(stamp) == 20
    assert parse_iso(stamp).utcoffset().total_seconds() == 0
    assert parse_iso("2026-01-02T03:04:05").isoformat() == "2026-01-02T03:04:05+00:00"
    assert parse_iso("2026-01-02T05:04:05+02:00") == parse_iso("2026-01-02T03:04:05Z")


def test_unusable_catalog_path_is_a_clear_error(tmp_path, capsys):
    from mediaclean_gui.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    sentence = (f"The catalog {blocker}/catalog.sqlite3 cannot be used: a part of its path is a file, not a folder, "
                f"so check the path.")
    with pytest.raises(ConfigError) as err:
        Catalog(blocker / "catalog.sqlite3")
    assert str(err.value) == sentence
    capsys.readouterr()
    assert main(["--catalog", str(blocker / "catalog.sqlite3"), "--json", "history"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == sentence
