"""Fixtures for the unit tests: importing a workspace, undeletable folders, the ``mediaclean.fs`` log."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.importdb import import_generator_db
from mediaclean_gui.core.projects import Project, list_projects


@pytest.fixture
def imported(workspace, catalog: Catalog) -> Callable[[], dict[str, Project]]:
    """Write the workspace's generator database, import it, return ``{external id: Project}``."""

    def run() -> dict[str, Project]:
        import_generator_db(catalog, workspace.write_db(), workspace.root)
        return {p.external_id: p for p in list_projects(catalog) if p.external_id is not None}

    return run


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True)
    return done.returncode == 0


def _read_only_bind(folder: Path) -> bool:
    if shutil.which("mount") is None:
        return False
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode != 0:
        return False
    if subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", str(folder)], capture_output=True)
        return False
    return True


@pytest.fixture
def undeletable() -> Iterator[Callable[[Path], None]]:
    """Make the entries of a folder impossible to delete, by a real mechanism.

    As a normal user ``chmod 0o555`` on the folder does it. As root permission
    bits do not stop ``unlink``, so the folder gets the immutable attribute
    (``chattr +i``), or where the file system has none (overlayfs, tmpfs) it is
    bind-mounted read-only onto itself (same device: the walk still enters it);
    the test is skipped, saying why, when nothing works (``MEDIACLEAN_TEST_NO_CHATTR=1``
    tries the bind mount first). Everything is undone at teardown so the temporary
    folders can be removed.
    """
    undo: list[Callable[[], None]] = []

    def make(folder: Path) -> None:
        if os.geteuid() != 0:
            mode = stat.S_IMODE(folder.stat().st_mode)
            folder.chmod(0o555)
            undo.append(lambda: folder.chmod(mode))
        elif os.environ.get("MEDIACLEAN_TEST_NO_CHATTR") != "1" and _chattr("+i", folder):
            undo.append(lambda: _chattr("-i", folder))
        elif _read_only_bind(folder):
            undo.append(lambda: subprocess.run(["umount", str(folder)], capture_output=True))
        else:
            pytest.skip("running as root, and neither 'chattr +i' nor a read-only bind mount works here: "
                        "nothing can make a file undeletable")
        probe = folder / ".mediaclean-probe"
        try:
            probe.write_bytes(b"")
        except OSError:
            return
        probe.unlink()
        pytest.skip(f"{folder} is still writable after making it read-only; cannot test a failing delete here")

    yield make
    for step in reversed(undo):
        step()


class _Records:
    """A live view of the records caplog holds for the current test phase."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    def __iter__(self) -> Iterator[logging.LogRecord]:
        return iter(list(self._caplog.records))


@pytest.fixture
def fs_records(caplog: pytest.LogCaptureFixture) -> Iterator[_Records]:
    """Records of the ``mediaclean.fs`` logger (attached directly: the CLI's logging setup stops propagation)."""
    logger = logging.getLogger("mediaclean.fs")
    old = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # caplog also listens on the root logger: count each record once
    logger.addHandler(caplog.handler)
    try:
        yield _Records(caplog)
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(old[0])
        logger.propagate = old[1]
