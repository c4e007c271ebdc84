"""What the sdist and wheel carry, the icons, and the desktop files as dev/install lays them out."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import tarfile
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ICONS = REPO / "mediaclean_gui" / "resources" / "icons"
SIZES = {16, 22, 24, 32, 48, 64, 128, 256, 512}


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_every_icon_png_has_the_size_its_name_says_and_the_svg_is_square():
    pngs = {int(p.stem.split("-")[1]): p for p in ICONS.glob("mediaclean-*.png")}
    assert set(pngs) == SIZES
    for size, path in pngs.items():
        assert _png_size(path) == (size, size), path.name
    svg = ET.parse(ICONS / "mediaclean.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 256 256"


def test_every_package_data_pattern_matches_a_file():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["mediaclean_gui"]
    for pattern in patterns:
        assert list((REPO / "mediaclean_gui").glob(pattern)), f"{pattern} matches nothing"
    assert config["project"]["license"] == "MIT" and "MIT License" in (REPO / "LICENSE").read_text()


def test_share_tree_lays_out_the_desktop_files_with_the_installed_command(tmp_path):
    exe = tmp_path / "my home" / ".local" / "bin" / "mediaclean-gui"
    dest = tmp_path / "share"
    subprocess.run([str(REPO / "packaging" / "share-tree.sh"), str(dest), str(exe)], check=True, timeout=60)
    desktop = (dest / "applications" / "mediaclean.desktop").read_text(encoding="utf-8").splitlines()
    assert f'Exec="{exe}" %F' in desktop and f"TryExec={exe}" in desktop and "Icon=mediaclean" in desktop
    assert (dest / "icons/hicolor/scalable/apps/mediaclean.svg").is_file()
    for size in SIZES:
        assert _png_size(dest / f"icons/hicolor/{size}x{size}/apps/mediaclean.png") == (size, size)
    assert (dest / "metainfo/io.github.mediaclean.metainfo.xml").is_file()
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(dest / "applications" / "mediaclean.desktop")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_the_desktop_entry_and_metainfo_validate():
    for tool in ("desktop-file-validate", "appstreamcli"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (dev/setup installs it)")
    desktop = subprocess.run(["desktop-file-validate", str(REPO / "packaging" / "mediaclean.desktop")],
                             capture_output=True, text=True, timeout=60)
    assert desktop.returncode == 0 and desktop.stdout == "", desktop.stdout
    # --no-net: offline, the URLs are not fetched
    meta = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", "--no-color",
                           str(REPO / "packaging" / "io.github.mediaclean.metainfo.xml")],
                          capture_output=True, text=True, timeout=60)
    assert meta.returncode == 0 and "Validation was successful" in meta.stdout, meta.stdout
    root = ET.parse(REPO / "packaging" / "io.github.mediaclean.metainfo.xml").getroot()
    assert root.findtext("launchable") == "mediaclean.desktop"


@pytest.mark.slow
def test_the_sdist_carries_tests_docs_and_packaging_and_builds_the_wheel(tmp_path):
    pytest.importorskip("build", reason="the build package is not installed (it comes with the test extras)")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = tmp_path.glob("mediaclean-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for expected in ("LICENSE", "README.md", "pyproject.toml", "tests/conftest.py", "tests/packaging/test_bundle.py",
                     "tests/integration/s3_server.py", "docs/screenshot.png", "packaging/mediaclean.spec",
                     "packaging/mediaclean.desktop", "packaging/io.github.mediaclean.metainfo.xml", "dev/setup",
                     "dev/test", "mediaclean_gui/resources/icons/mediaclean.svg"):
        assert expected in names, expected
    assert not [n for n in names if n.startswith((".venv", "dist/", "build/")) or "__pycache__" in n]
    (wheel,) = tmp_path.glob("mediaclean-*.whl")  # built from the sdist
    with zipfile.ZipFile(wheel) as whl:
        files = set(whl.namelist())
    assert "mediaclean_gui/resources/icons/mediaclean-256.png" in files
    assert "mediaclean_gui/core/migrations/0001_initial.sql" in files
    assert not [f for f in files if f.startswith("tests/")]
