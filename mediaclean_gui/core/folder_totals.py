"""Totals of whole folders measured by GNU ``find`` in its own process, while the scan walks on.

A scan measures a folder that a folder pattern covers (thousands of frames that all classify the same) as
one total of bytes and regular files. :func:`core.walk.tree_size` does that in Python on the scan's own
thread; here GNU ``find`` does it on another core, so the scan's per-file walk and the measuring overlap,
and ``find``'s own walk costs about half of Python's. The rules are :func:`~core.walk.tree_size`'s:
links are never followed (``-P``), other file systems are not entered (``-xdev``, and a folder that is
itself on another device than the workspace root counts nothing), unreadable folders are skipped, files
that vanish meanwhile are ignored. Only regular files count.

Where GNU ``find`` is missing or its answer cannot be read back exactly (another ``find``, a folder that
vanished or became a file, the process killed), the folders of that batch are measured by
:func:`~core.walk.tree_size` instead, so the totals never depend on which of the two measured them.
A scan only displays sizes; nothing here decides what may be deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from typing import IO

from .walk import tree_size

#: Folders given to one ``find`` process at most, and the bytes of their paths at most (``ARG_MAX``).
BATCH_FOLDERS = 1000
BATCH_BYTES = 128 * 1024
#: What ``find`` prints: ``<size>`` for a regular file, ``x<depth> <device>`` for anything else. Every
#: folder given is the one entry at depth 0, so its ``x0 <device>`` line starts its part of the output.
_PRINT = ["(", "-type", "f", "-printf", r"%s\n", ")", "-o", "-printf", r"x%d %D\n"]
_START = re.compile(rb"(?m)^x0 (\d+)\n")
_OTHER = re.compile(rb"(?m)^x\d+ \d+\n")  # a folder (or a link, a device …) below a folder given
_SIZES = re.compile(rb"(?:\d+\n)*")
_CHUNK = 1 << 20

#: ``[bytes, files]``: the counter a folder's totals are added to.
Slot = list[int]


def _absolute(path: str) -> str:
    """``path`` as a start point ``find`` cannot take for an option or an operator: absolute, and otherwise as
    given (no ``..`` resolved by string: that would change which folder a link in the path leads to)."""
    return path if path.startswith("/") else os.path.join(os.getcwd(), path)


class _Output:
    """``find``'s output read back as it grows: ``(bytes, files)`` per folder given, in order, each counted
    only when its start line names the device it was queued with."""

    def __init__(self, devices: list[int]) -> None:
        self.devices = devices
        self.found: list[tuple[int, int]] = []
        self.nbytes = self.files = 0
        self.started = self.same = False
        self.tail = b""
        self.bad = False  # not an answer to read: the batch is measured in Python

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes written (whole lines are read, a part line waits for the rest)."""
        if self.bad:
            return
        data = self.tail + chunk
        cut = data.rfind(b"\n") + 1
        data, self.tail = data[:cut], data[cut:]
        for n, part in enumerate(_START.split(data)):  # text, device, text, device, text ...
            if n % 2:  # the device of the next folder given
                if self.started:
                    self.found.append((self.nbytes, self.files))
                if len(self.found) >= len(self.devices):
                    self.bad = True
                    return
                self.started, self.same = True, int(part) == self.devices[len(self.found)]
                self.nbytes = self.files = 0
                continue
            sizes = _OTHER.sub(b"", part)
            if not sizes:
                continue
            if not self.started or _SIZES.fullmatch(sizes) is None:  # output before a start line (a folder
                self.bad = True  # given that is a file now prints none), or not what GNU find prints
                return
            if self.same:
                numbers = sizes.split()
                self.nbytes += sum(map(int, numbers))
                self.files += len(numbers)

    def end(self) -> list[tuple[int, int]] | None:
        """The totals once everything is read; ``None`` unless they account for every folder exactly once."""
        if self.bad or self.tail:  # (a tail: the last line was cut short)
            return None
        if self.started:
            self.found.append((self.nbytes, self.files))
            self.started = False
        return self.found if len(self.found) == len(self.devices) else None


class _Batch:
    """One ``find`` process over some folders, its output going to an unnamed temporary file that is read
    back (``pread``: ``find`` shares the file offset) while it runs."""

    def __init__(self, find: str, folders: list[tuple[str, int, Slot]]) -> None:
        self.folders = folders
        self.output = _Output([dev for _, dev, _ in folders])
        self.read = 0
        self.out: IO[bytes] = tempfile.TemporaryFile(prefix="mediaclean-sizes-")
        try:
            self.proc = subprocess.Popen(
                [find, "-P", *(_absolute(path) for path, _, _ in folders), "-xdev", "-ignore_readdir_race", *_PRINT],
                stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C"})
        except BaseException:
            self.out.close()
            raise

    def done(self) -> bool:
        return self.proc.poll() is not None

    def take(self) -> bool:
        """Read what ``find`` has written since the last call; whether there was anything."""
        took = False
        while chunk := os.pread(self.out.fileno(), _CHUNK, self.read):
            self.read += len(chunk)
            self.output.feed(chunk)
            took = True
        return took

    def totals(self) -> list[tuple[int, int]] | None:
        """``(bytes, files)`` per folder, in order, once the process has ended (its output is read while it
        runs); ``None`` when its output does not account for every folder exactly once (the batch is then
        measured again in Python)."""
        while self.proc.poll() is None:
            if not self.take():
                time.sleep(0.001)
        self.take()  # what it wrote last
        if self.proc.returncode not in (0, 1):  # 1: some folder below could not be read, as tree_size skips it
            return None
        return self.output.end()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


class FolderTotals:
    """Folders queued with :meth:`add` are measured one batch at a time by a ``find`` process; :meth:`finish`
    adds every folder's ``(bytes, files)`` to its slot. Use as a context manager: leaving it early (a
    cancelled scan) kills a ``find`` still running. ``find=None``, no ``find`` on ``PATH`` or one that
    cannot be started measures with :func:`~core.walk.tree_size` on this thread; a ``find`` that is not GNU
    ``find`` is tried batch by batch and each of its answers is measured again there."""

    def __init__(self, find: str | None = "") -> None:
        self.find = shutil.which("find") if find == "" else find
        self.queued: list[tuple[str, int, Slot]] = []
        self.running: _Batch | None = None
        self.files = 0
        #: folders measured by ``find`` / by Python (for tests and benchmarks)
        self.by_find = self.by_python = 0

    def __enter__(self) -> FolderTotals:
        return self

    def __exit__(self, *_: object) -> None:
        if self.running is not None:
            self.running.close()
            self.running = None

    def add(self, path: str, root_dev: int, slot: Slot) -> None:
        """Queue ``path`` (a folder on the device ``root_dev``) to be added to ``slot``; starts a batch when
        none is running."""
        self.queued.append((path, root_dev, slot))
        self.poll()

    def poll(self) -> None:
        """Read what the running batch has written so far, collect it once it has ended and start the next
        one. Cheap: call it as often as convenient (the scan calls it every thousand files)."""
        if self.running is not None:
            self.running.take()
            if self.running.done():
                self._collect()
        if self.running is None and self.queued:
            self._start()

    def finish(self) -> int:
        """Wait for every queued folder to be measured and added to its slot; returns the files counted."""
        while self.running is not None or self.queued:
            if self.running is not None:
                self._collect()
            if self.queued:
                self._start()
        return self.files

    def _start(self) -> None:
        batch: list[tuple[str, int, Slot]] = []
        size = 0
        while self.queued and len(batch) < BATCH_FOLDERS and (not batch or size + len(self.queued[0][0]) < BATCH_BYTES):
            batch.append(self.queued.pop(0))
            size += len(batch[-1][0]) + 1
        if self.find is None:
            self._in_python(batch)
            return
        try:
            self.running = _Batch(self.find, batch)
        except OSError:  # not a program we can start: the rest is measured here too
            self.find = None
            self._in_python(batch)

    def _collect(self) -> None:
        running, self.running = self.running, None
        assert running is not None
        try:
            totals = running.totals()
        finally:
            running.close()
        if totals is None:
            self._in_python(running.folders)
            return
        self._credit(running.folders, totals)
        self.by_find += len(totals)

    def _in_python(self, batch: list[tuple[str, int, Slot]]) -> None:
        self._credit(batch, [tree_size(path, dev) for path, dev, _ in batch])
        self.by_python += len(batch)

    def _credit(self, batch: list[tuple[str, int, Slot]], totals: list[tuple[int, int]]) -> None:
        for (_, _, slot), (nbytes, files) in zip(batch, totals, strict=True):
            slot[0] += nbytes
            slot[1] += files
            self.files += files
