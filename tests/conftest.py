"""Shared fixtures: an isolated home for every test session, real media, catalogs, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Isolate the user folders (catalog, profiles, trash, logs) before anything imports platformdirs.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="mediaclean-tests-home-"))
for _var, _sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"),
                   ("XDG_STATE_HOME", "state")):
    os.environ[_var] = str(_SESSION_HOME / _sub)
os.environ.pop("MEDIACLEAN_CATALOG", None)
os.environ.pop("AUTO_CLEANUP_ENABLED", None)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

from helpers import GeneratorWorkspace, MediaPool  # noqa: E402

from mediaclean_gui.core.catalog import Catalog, open_catalogs  # noqa: E402


@pytest.fixture(autouse=True)
def no_catalog_left_open():
    """Fail a test that leaves a catalog connection open (any thread): Python 3.13 would warn about it
    only when the garbage collector finds it, in whichever test runs then. Set up before the test's
    other fixtures, so it looks after their teardown; catalogs of wider-scoped fixtures are left alone.
    A connection still held by a worker thread counts only if its task has not ended 5 s later."""
    before = set(open_catalogs())
    yield
    left = [c for c in open_catalogs() if c not in before]
    deadline = time.monotonic() + 5  # a worker task still running closes its thread's connection as it ends
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = [c for c in open_catalogs() if c not in before]
    shown = ", ".join(f"{c.path} ({c.open_connections} connection(s))" for c in left)
    for cat in left:
        cat.close()
    assert not left, f"catalogs left open (call close(), or use 'with Catalog(...)'): {shown}"


@pytest.fixture(scope="session")
def media_pool(tmp_path_factory: pytest.TempPathFactory) -> MediaPool:
    """Real mp4, mp3 and jpg files made once per session with ffmpeg (copied, never re-encoded)."""
    return MediaPool.create(tmp_path_factory.mktemp("media"))


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.sqlite3"


@pytest.fixture
def catalog(catalog_path: Path):
    cat = Catalog(catalog_path)
    yield cat
    cat.close()


@pytest.fixture
def workspace(tmp_path: Path, media_pool: MediaPool) -> GeneratorWorkspace:
    """An empty seed 002 generator workspace under ``tmp_path/ws`` with a builder API."""
    return GeneratorWorkspace(tmp_path / "ws", media_pool)


@pytest.fixture
def cli(catalog_path: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``mediaclean --json ARGS`` in-process on the test's catalog: returns ``(exit_code, payload)``."""
    from mediaclean_gui.cli import main

    def run(*args: str) -> tuple[int, dict]:
        capsys.readouterr()
        code = main(["--catalog", str(catalog_path), "--json", *map(str, args)])
        out = capsys.readouterr().out
        lines = [line for line in out.splitlines() if line.strip()]
        assert len(lines) == 1, f"--json must print exactly one JSON object, got: {out!r}"
        return code, json.loads(lines[0])

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)
