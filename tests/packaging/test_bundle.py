"""The desktop bundle (dev/package, packaging/mediaclean.spec): built or reused, then started offscreen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (it comes with the test extras)")

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "mediaclean"

pytestmark = pytest.mark.slow


def _env(home: Path) -> dict[str, str]:
    """A throwaway user: its own HOME, XDG folders and TMPDIR; offscreen Qt; the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MEDIACLEAN_CATALOG")}
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                     ("XDG_CACHE_HOME", "cache"), ("TMPDIR", "tmp")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dist/mediaclean``, built by ``dev/package --bundle-only`` (reused when built from the same sources)."""
    env = _env(tmp_path_factory.mktemp("package-home"))
    done = subprocess.run([str(REPO / "dev" / "package"), "--bundle-only", "--no-setup"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (BUNDLE / "mediaclean-gui").is_file() and (BUNDLE / "mediaclean").is_file()
    print(done.stdout.strip().splitlines()[-1])  # "Bundle: dist/mediaclean, 172M (… bytes)"
    return BUNDLE


def test_the_bundle_opens_its_window_offscreen_and_stays_up(bundle: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.sqlite3"
    started = time.monotonic()
    done = subprocess.run([str(bundle / "mediaclean-gui"), "--catalog", str(catalog)],
                          env={**_env(tmp_path / "home"), "MEDIACLEAN_BUNDLE_CHECK": "3"},
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    ready = [line for line in done.stderr.splitlines() if line.startswith("ready: window shown after ")]
    assert done.returncode == 0 and ready, done.stderr
    assert ready[0].endswith(f"(mediaclean — {catalog})")
    assert took >= 3.0  # it stayed up the 3 s it was asked to
    assert catalog.is_file()  # the catalog was created and migrated by the bundled package
    print(f"{ready[0]}; {took:.1f} s in all")


def test_the_bundled_demo_and_command_line_see_the_same_projects(bundle: Path, tmp_path: Path) -> None:
    """The bundled data files work: demo media, the generator import, migrations and profiles."""
    env = _env(tmp_path / "home")
    catalog = tmp_path / "demo.sqlite3"
    done = subprocess.run([str(bundle / "mediaclean-gui"), "--demo", "--catalog", str(catalog)],
                          env={**env, "MEDIACLEAN_BUNDLE_CHECK": "1"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ready: window shown" in done.stderr, done.stderr
    listed = subprocess.run([str(bundle / "mediaclean"), "--catalog", str(catalog), "--json", "project", "list"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    projects = {p["name"]: p for p in json.loads(listed.stdout)["projects"]}
    assert set(projects) == {"Ocean Documentary", "Product Launch", "City Timelapse", "Recipe Short"}
    assert projects["Ocean Documentary"]["reclaimable_bytes"] > 0
    workspace = tmp_path / "ws"
    workspace.mkdir()
    added = subprocess.run([str(bundle / "mediaclean"), "--catalog", str(catalog), "--json", "project", "add",
                            str(workspace), "--profile", "mv-backend", "--name", "Back end"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr  # the built-in profiles are in the bundle
    assert json.loads(added.stdout)["project_id"]
