"""The app's own temporary work (F6): preview thumbnails with ffmpeg in temp folders that always go."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from .errors import KnownError
from .events import Cancelled, CancelToken, fs_log, log_event
from .tempclean import TempOutcome, cleanup_temp_path

FFMPEG_ENV = "MEDIACLEAN_FFMPEG"


class ThumbnailError(KnownError):
    """ffmpeg is missing, failed, timed out, or wrote no frame."""


def app_temp_root() -> Path:
    """``platformdirs.user_cache_dir("mediaclean")/tmp``: where the app's own temp work goes."""
    return Path(platformdirs.user_cache_dir("mediaclean")) / "tmp"


@contextmanager
def app_temp_dir(prefix: str, temp_root: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A fresh folder under ``temp_root`` (default :func:`app_temp_root`) for one piece of work.

    The folder is removed with :func:`cleanup_temp_path` when the block ends —
    on success, on any exception, on cancel (seed 003: cleanup on every path).
    A cleanup that fails is logged (``temp_path_failed``), never raised over the block's own outcome.
    """
    root = Path(temp_root) if temp_root is not None else app_temp_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        yield folder
    finally:
        done = cleanup_temp_path(folder, root)
        if done.outcome not in (TempOutcome.REMOVED, TempOutcome.ALREADY_GONE):
            log_event(fs_log, logging.ERROR, "app_temp_left_behind", path=done.path, error=done.error)


def ffmpeg_command() -> str:
    """``$MEDIACLEAN_FFMPEG`` or ``ffmpeg`` (from ``PATH``)."""
    return os.environ.get(FFMPEG_ENV) or "ffmpeg"


def make_thumbnail(
    video_path: str | os.PathLike[str],
    *,
    temp_root: str | os.PathLike[str] | None = None,
    at_seconds: float = 0.0,
    width: int = 320,
    timeout: float = 30.0,
    cancel: CancelToken | None = None,
    ffmpeg: str | None = None,
) -> bytes:
    """A JPEG frame of ``video_path`` at ``at_seconds``, ``width`` pixels wide, as bytes.

    ffmpeg writes the frame into a fresh folder under ``temp_root`` (default
    :func:`app_temp_root`), which is removed on success, on ffmpeg failure,
    on timeout (``timeout`` seconds; ffmpeg is killed) and on cancel (ffmpeg
    is killed). Raises :class:`ThumbnailError` (ffmpeg missing, failed, timed
    out, no frame) or ``Cancelled``.
    """
    exe = ffmpeg or ffmpeg_command()
    with app_temp_dir("thumb_", temp_root) as folder:
        out = folder / "frame.jpg"
        log_path = folder / "ffmpeg.log"
        cmd = [exe, "-nostdin", "-hide_banner", "-v", "error", "-y", "-ss", f"{max(0.0, at_seconds):.3f}",
               "-i", os.fspath(video_path), "-frames:v", "1", "-vf", f"scale={int(width)}:-2", "-f", "image2",
               os.fspath(out)]
        if cancel is not None:
            cancel.raise_if_cancelled()
        with open(log_path, "wb") as log_file:
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file)
            except OSError as exc:
                raise ThumbnailError(
                    f"Thumbnail failed: ffmpeg could not be started ({exe}: {exc.strerror or exc}); "
                    f"install ffmpeg or set {FFMPEG_ENV}.") from None
            try:
                _wait(proc, timeout, cancel)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if proc.returncode != 0:
            last = _last_line(log_path)
            raise ThumbnailError(f"Thumbnail failed: ffmpeg could not read {os.fspath(video_path)} ({last}).")
        try:
            data = out.read_bytes()
        except FileNotFoundError:
            data = b""
        if not data:
            raise ThumbnailError(f"Thumbnail failed: ffmpeg wrote no frame for {os.fspath(video_path)}.")
        return data


def _wait(proc: subprocess.Popen[bytes], timeout: float, cancel: CancelToken | None) -> None:
    """Wait for ffmpeg, checking the cancel flag every 50 ms; kill it on cancel or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            proc.wait(timeout=0.05)
            return
        except subprocess.TimeoutExpired:
            pass
        if cancel is not None and cancel.cancelled:
            proc.kill()
            proc.wait()
            raise Cancelled()
        if time.monotonic() >= deadline:
            proc.kill()
            proc.wait()
            raise ThumbnailError(f"Thumbnail failed: ffmpeg took longer than {timeout:g} s and was stopped.")


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no details"
    return lines[-1].strip() if lines else "no message"


def sweep_app_temp(temp_root: str | os.PathLike[str] | None = None, *, older_than_hours: float = 1.0,
                   now: float | None = None) -> int:
    """Remove leftovers of the app's own temp work (after a crash or a kill) older than the
    threshold; returns how many entries were removed. Meant for start-up."""
    root = Path(temp_root) if temp_root is not None else app_temp_root()
    cutoff = (time.time() if now is None else now) - older_than_hours * 3600
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_mtime > cutoff:
                continue
        except OSError:
            continue
        if cleanup_temp_path(entry.path, root).outcome is TempOutcome.REMOVED:
            removed += 1
    return removed
