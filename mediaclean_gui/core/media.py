"""Real media files for the demo and the tests: ffmpeg where installed, else shipped samples."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def _sample(kind: str) -> bytes:
    return resources.files("mediaclean_gui").joinpath("resources", "media", f"sample.{kind}").read_bytes()


def _ffmpeg(args: list[str], out: Path) -> bool:
    if not have_ffmpeg():
        return False
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)]
    try:
        subprocess.run(cmd, check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (subprocess.SubprocessError, OSError):
        return False
    return out.exists()


def make_video(out: Path, seconds: float = 1.0, size: str = "320x240", pattern: str = "testsrc") -> Path:
    """A valid H.264 mp4 (``seconds`` long, ``size`` WxH); a shipped sample without ffmpeg."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not _ffmpeg(["-f", "lavfi", "-i", f"{pattern}=duration={seconds}:size={size}:rate=25", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p"], out):
        out.write_bytes(_sample("mp4"))
    return out


def make_audio(out: Path, seconds: float = 1.0, frequency: int = 440) -> Path:
    """A valid mp3 tone; a shipped sample without ffmpeg."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not _ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}", "-c:a", "libmp3lame",
                    "-b:a", "64k"], out):
        out.write_bytes(_sample("mp3"))
    return out


def make_image(out: Path, size: str = "320x180") -> Path:
    """A valid jpg frame; a shipped sample without ffmpeg."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not _ffmpeg(["-f", "lavfi", "-i", f"testsrc=size={size}", "-frames:v", "1"], out):
        out.write_bytes(_sample("jpg"))
    return out
