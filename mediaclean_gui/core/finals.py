"""Invariant 13: is a final render complete? ``ffprobe`` reads it once per version (cached by identity)."""

from __future__ import annotations

import enum
import json
import os
import re
import stat
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, iso, to_db_path

#: seconds ffprobe may take on one file
PROBE_TIMEOUT = 60.0


class FinalState(str, enum.Enum):
    COMPLETE = "complete"
    MISSING = "missing"          # no regular file there
    INCOMPLETE = "incomplete"    # empty, truncated or unreadable: ffprobe says so
    SETTLING = "settling"        # changed within the settle time: may still be being written


@dataclass(frozen=True)
class FinalCheck:
    """The verdict on one final output. ``reason`` is a sentence for the user; ``fingerprint`` the file's
    identity when it was checked (``dev``, ``ino``, ``size``, ``mtime_ns``), ``None`` when missing."""

    path: str
    state: FinalState
    reason: str
    fingerprint: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return self.state is FinalState.COMPLETE


def check_final(catalog: Catalog, path: str, settle_seconds: float, *, now: float | None = None) -> FinalCheck:
    """Whether ``path`` is a complete final render (invariant 13).

    Complete when it is a regular file (a link or a folder does not count), unchanged for
    ``settle_seconds``, and ``ffprobe`` reads its container and finds a video stream with a duration
    above zero whose last packets lie inside the file (a render that crashed mid-write is truncated:
    either the index is missing, or it points past the end). The ffprobe verdict is stored in the
    catalog by the file version's identity (device, inode, size, mtime), so each is probed once.
    Never raises for the file's state; without ffprobe a final cannot be proved complete.
    """
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return FinalCheck(path, FinalState.MISSING, "the final render is missing")
    if not stat.S_ISREG(st.st_mode):
        return FinalCheck(path, FinalState.MISSING, "the final render is not a regular file (a link or a folder)")
    fp = {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    age = (time.time() if now is None else now) - st.st_mtime
    if age < settle_seconds:
        return FinalCheck(path, FinalState.SETTLING, f"the final render changed {max(0, int(age))} s ago; it counts "
                                                      f"once unchanged for {settle_seconds:g} s", fp)
    if st.st_size == 0:
        return FinalCheck(path, FinalState.INCOMPLETE, "final render incomplete or unreadable: the file is empty", fp)
    row = catalog.conn.execute("SELECT size, mtime_ns, complete, reason FROM final_checks WHERE dev = ? AND ino = ?",
                               (st.st_dev, st.st_ino)).fetchone()
    if row is not None and (row["size"], row["mtime_ns"]) == (st.st_size, st.st_mtime_ns):
        complete, reason = bool(row["complete"]), str(row["reason"])
    else:
        probed = probe_video(path)
        if probed is None:
            return FinalCheck(path, FinalState.INCOMPLETE, "final render cannot be checked: ffprobe (from ffmpeg) is "
                                                           "not installed", fp)
        complete, reason = probed
        catalog.conn.execute(
            "INSERT OR REPLACE INTO final_checks(dev, ino, size, mtime_ns, path, complete, reason, checked_at) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, to_db_path(path), int(complete), reason, iso()))
    if not complete:
        return FinalCheck(path, FinalState.INCOMPLETE, f"final render incomplete or unreadable: {reason}", fp)
    return FinalCheck(path, FinalState.COMPLETE, "final render complete", fp)


def probe_video(path: str) -> tuple[bool, str] | None:
    """``(complete, reason)`` from one ffprobe call, or ``None`` when ffprobe is not installed.

    ffprobe is asked to seek to the end (``-read_intervals 999999%``: it lands on the last key frame)
    and list the packets from there, with the container's video stream and duration. A complete file
    yields those last packets, inside the file; a truncated one yields an error, or no packets, or
    packets that end past the file's size.
    """
    import shutil  # (here: it imports three compression modules, for every start otherwise)

    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    try:
        done = subprocess.run(
            [ffprobe, "-v", "error", "-hide_banner", "-select_streams", "v:0", "-read_intervals", "999999%",
             "-show_entries", "stream=codec_type,duration:format=duration:packet=pos,size", "-of", "json", path],
            capture_output=True, stdin=subprocess.DEVNULL, timeout=PROBE_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"ffprobe could not read it ({exc})"
    errors = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        return False, _first_line(done.stderr) or "ffprobe could not read the container"
    if "partial file" in errors:
        return False, "it was cut short: its last frames are missing"
    try:
        info = json.loads(done.stdout or b"{}")
    except ValueError:
        return False, "ffprobe gave no readable answer"
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "video"]
    if not streams:
        return False, "it has no video stream"
    duration = _number(streams[0].get("duration")) or _number(info.get("format", {}).get("duration"))
    if not duration or duration <= 0:
        return False, "its video has no duration"
    packets = info.get("packets", [])
    if not packets:
        return False, "it was cut short: its last frames are missing"
    size = os.path.getsize(path)
    end = max((int(p["pos"]) + int(p.get("size", 0)) for p in packets if str(p.get("pos", "")).isdigit()), default=0)
    if end > size:
        return False, f"it was cut short: the file ends at {size} bytes but its video needs {end}"
    return True, f"a video stream of {duration:.1f} s"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _first_line(data: bytes) -> str:
    """ffprobe's first error line without its ``[demuxer @ 0x…]`` prefix, e.g. ``moov atom not found``."""
    text = data.decode("utf-8", "replace").strip()
    line = text.splitlines()[0].strip() if text else ""
    return re.sub(r"^\[[^\]]*\]\s*", "", line)
