"""Progress words for the window: items and bytes done, the transfer rate (bytes/s) and the current item."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import humanize

#: Seconds of samples the rate is measured over (a moving window, so a stall shows at once).
RATE_WINDOW = 3.0
#: The rate is shown once the samples span at least this many seconds.
RATE_MIN_SPAN = 0.05


class RateMeter:
    """Bytes per second over the last :data:`RATE_WINDOW` seconds of ``(time, bytes_done)`` samples."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        """Start again at 0 bytes now (a run begins)."""
        self.samples.clear()
        self.samples.append((self.clock(), 0))

    def add(self, bytes_done: int) -> float | None:
        """Record a sample; the rate in bytes/s, or ``None`` until there is enough to measure."""
        now = self.clock()
        if self.samples and bytes_done < self.samples[-1][1]:  # a new phase counted from 0
            self.samples.clear()
        self.samples.append((now, bytes_done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW:
            self.samples.popleft()
        first_t, first_b = self.samples[0]
        span = now - first_t
        if span < RATE_MIN_SPAN or bytes_done <= first_b:
            return None if span < RATE_MIN_SPAN or bytes_done == 0 else 0.0
        return (bytes_done - first_b) / span


def rate_text(rate: float | None) -> str:
    """``12.3 MB/s`` (decimal units, like every size in the window); ``""`` when unknown."""
    return "" if rate is None else f"{humanize.naturalsize(rate)}/s"


def progress_line(snap: dict[str, Any], rate: float | None = None, noun: str = "items") -> str:
    """One line under the plan while a run goes: ``3/12 files · 4.2 MB of 9.8 MB · 12.3 MB/s · video.mp4``."""
    done, total = int(snap.get("done") or 0), int(snap.get("total") or 0)
    parts = [f"{done:,}/{total:,} {noun}" if total else f"{done:,} {noun}"]
    bytes_done, bytes_total = int(snap.get("bytes_done") or 0), int(snap.get("bytes_total") or 0)
    if bytes_total:
        parts.append(f"{humanize.naturalsize(bytes_done)} of {humanize.naturalsize(bytes_total)}")
    elif bytes_done:
        parts.append(humanize.naturalsize(bytes_done))
    if rate is not None:
        parts.append(rate_text(rate))
    current = str(snap.get("current") or "")
    if current:
        parts.append(os.path.basename(current.rstrip("/")) or current)
    return " · ".join(parts)
