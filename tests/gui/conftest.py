"""Fixtures for the window tests: real catalogs from real workspaces, an offscreen window, helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mediaclean_gui.core import catalog as catalog_module
from mediaclean_gui.gui import create_main_window
from mediaclean_gui.gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def schedule_off(monkeypatch):
    """Every scheduled job off by default in window tests, as in ``tests/unit/test_scheduler.py``.

    The window's scheduler runs a job never run before as soon as it starts (auto-cleanup every
    5 minutes by default), which would clean the settled test projects under every other test;
    the scheduler's own tests turn on the job they look at.
    """
    for key in [k for k in catalog_module.DEFAULT_PREFS if k.startswith("schedule_")]:
        monkeypatch.setitem(catalog_module.DEFAULT_PREFS, key, 0)


@pytest.fixture
def open_window(qtbot):
    """``open_window(catalog_path)`` -> a MainWindow with its projects loaded (closed at the end)."""

    def make(catalog_path: Path, show: bool = False) -> MainWindow:
        window = create_main_window(catalog_path)
        qtbot.addWidget(window)
        if show:
            window.show()
        qtbot.waitUntil(lambda: window.projects_loaded, timeout=10000)
        qtbot.waitUntil(lambda: not window.workers.running("projects"), timeout=10000)
        return window

    return make


# ---------------------------------------------------------------- the real SeaweedFS server (S3 tests)

sys.path.insert(0, str(Path(__file__).parent.parent / "integration"))
from s3_server import SeaweedServer


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One ``weed mini`` for every window test that needs S3 (tests/integration has its own)."""
    weed = SeaweedServer(tmp_path_factory.mktemp("weed-gui"))
    weed.start()
    yield weed
    weed.stop()


@pytest.fixture
def s3_env(server, tmp_path, monkeypatch):
    """The server's credentials through boto3's standard chain (environment only); the shared
    files point at an empty file so the developer's own ~/.aws cannot leak in."""
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    for key, value in (("AWS_ACCESS_KEY_ID", server.access_key), ("AWS_SECRET_ACCESS_KEY", server.secret_key),
                       ("AWS_DEFAULT_REGION", server.region), ("AWS_CONFIG_FILE", str(empty)),
                       ("AWS_SHARED_CREDENTIALS_FILE", str(empty)), ("AWS_EC2_METADATA_DISABLED", "true")):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return server


@pytest.fixture(autouse=True)
def window_settings_file(tmp_path, monkeypatch):
    """The window's remembered layout goes to a file of this test (never the user's own settings)."""
    path = tmp_path / "window.ini"
    monkeypatch.setenv("MEDIACLEAN_GUI_SETTINGS", str(path))
    return path
