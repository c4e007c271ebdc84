"""F6: the app's own temp work (preview thumbnails with ffmpeg) leaves nothing behind, whatever happens."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from mediaclean_gui.core.events import Cancelled, CancelToken
from mediaclean_gui.core.media import have_ffmpeg
from mediaclean_gui.core.thumbnails import (
    ThumbnailError,
    app_temp_dir,
    app_temp_root,
    make_thumbnail,
    sweep_app_temp,
)

needs_ffmpeg = pytest.mark.skipif(not have_ffmpeg(), reason="ffmpeg is not installed")


@pytest.fixture
def temp_root(tmp_path: Path) -> Path:
    return tmp_path / "app-tmp"


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def ffmpeg_on(path: Path) -> bool:
    """Is any ffmpeg process still reading ``path``?"""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if os.fsencode(path) in cmdline and any(b"ffmpeg" in part for part in cmdline[:1]):
            return True
    return False


@needs_ffmpeg
def test_thumbnail_of_a_real_video(media_pool, temp_root):
    data = make_thumbnail(media_pool.video, temp_root=temp_root, width=80)
    assert data[:3] == b"\xff\xd8\xff", "a JPEG"
    assert leftovers(temp_root) == []


@needs_ffmpeg
def test_a_corrupt_video_fails_and_leaves_nothing(tmp_path, temp_root):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(os.urandom(4096))
    with pytest.raises(ThumbnailError) as info:
        make_thumbnail(broken, temp_root=temp_root)
    assert info.value.message.startswith(f"Thumbnail failed: ffmpeg could not read {broken} (")
    assert leftovers(temp_root) == []


@needs_ffmpeg
def test_a_missing_video_fails_and_leaves_nothing(tmp_path, temp_root):
    with pytest.raises(ThumbnailError):
        make_thumbnail(tmp_path / "nope.mp4", temp_root=temp_root)
    assert leftovers(temp_root) == []


def test_no_ffmpeg_fails_and_leaves_nothing(media_pool, temp_root):
    with pytest.raises(ThumbnailError) as info:
        make_thumbnail(media_pool.video, temp_root=temp_root, ffmpeg="/nonexistent/ffmpeg")
    assert "ffmpeg could not be started (/nonexistent/ffmpeg: No such file or directory)" in info.value.message
    assert leftovers(temp_root) == []


@needs_ffmpeg
def test_cancel_mid_way_kills_ffmpeg_and_leaves_nothing(tmp_path, temp_root):
    stalled = tmp_path / "stalled.mp4"
    os.mkfifo(stalled)  # ffmpeg blocks reading it until cancelled: a download that never finishes
    token = CancelToken()
    seen_running = []

    def cancel_later() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not ffmpeg_on(stalled):
            time.sleep(0.02)
        seen_running.append(leftovers(temp_root))
        token.cancel()

    thread = threading.Thread(target=cancel_later)
    thread.start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        make_thumbnail(stalled, temp_root=temp_root, cancel=token, timeout=60)
    thread.join()
    assert time.monotonic() - started < 10
    assert len(seen_running[0]) == 1 and seen_running[0][0].startswith("thumb_"), "the work had its temp folder"
    assert leftovers(temp_root) == []
    assert not ffmpeg_on(stalled), "ffmpeg was killed"


@needs_ffmpeg
def test_timeout_kills_ffmpeg_and_leaves_nothing(tmp_path, temp_root):
    stalled = tmp_path / "stalled.mp4"
    os.mkfifo(stalled)
    with pytest.raises(ThumbnailError) as info:
        make_thumbnail(stalled, temp_root=temp_root, timeout=0.5)
    assert info.value.message == "Thumbnail failed: ffmpeg took longer than 0.5 s and was stopped."
    assert leftovers(temp_root) == []
    assert not ffmpeg_on(stalled)


def test_cancelled_before_it_starts(media_pool, temp_root):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        make_thumbnail(media_pool.video, temp_root=temp_root, cancel=token)
    assert leftovers(temp_root) == []


def test_app_temp_dir_cleans_up_on_any_exception(temp_root):
    with pytest.raises(ZeroDivisionError):
        with app_temp_dir("preview_", temp_root) as folder:
            (folder / "download.part").write_bytes(b"half a file")
            (folder / "sub").mkdir()
            (folder / "sub" / "more").write_bytes(b"x")
            1 / 0
    assert not folder.exists() and leftovers(temp_root) == []


def test_app_temp_root_is_in_the_user_cache():
    assert app_temp_root() == Path(os.environ["XDG_CACHE_HOME"]) / "mediaclean" / "tmp"


def test_sweep_removes_old_leftovers_of_a_crash(temp_root):
    old = temp_root / "thumb_crashed"
    old.mkdir(parents=True)
    (old / "frame.jpg").write_bytes(b"x")
    os.utime(old, (1, 1))
    fresh = temp_root / "thumb_running"
    fresh.mkdir()
    assert sweep_app_temp(temp_root, older_than_hours=1) == 1
    assert leftovers(temp_root) == ["thumb_running"]
