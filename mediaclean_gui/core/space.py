"""Disk space for the window's header and map: free bytes per file system, a squarified treemap layout, and
the folders of one role of a project.

No Qt here: rectangles are plain ``(x, y, w, h)`` floats the window paints.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .catalog import Catalog
from .events import CancelToken
from .profiles import Role, get_profile
from .projects import artifacts_of, get_project
from .walk import walk


@dataclass(frozen=True)
class DiskSpace:
    """One file system holding project folders: ``free`` and ``total`` bytes now (``shutil.disk_usage``)."""

    device: int
    mount: str
    free: int
    total: int
    roots: tuple[str, ...]


def _mount_of(path: str) -> str:
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


#: file systems that keep everything in memory: removing a file there costs about a microsecond of the kernel's time
IN_MEMORY = frozenset({"tmpfs", "ramfs"})


def file_system_type(path: str) -> str:
    """The type of the file system holding ``path`` (``ext4``, ``btrfs``, ``tmpfs``…) as the kernel names it in
    ``/proc/self/mountinfo`` (the last mount on its mount point: the one in use); ``""`` when unknown."""
    mount = _mount_of(path)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
            lines = info.read().splitlines()
    except OSError:
        return ""
    kind = ""
    for line in lines:
        left, sep, right = line.partition(" - ")
        fields = left.split(" ")
        if sep and len(fields) > 4 and right and \
                re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]) == mount:
            kind = right.split(" ", 1)[0]
    return kind


def disk_space(roots: Iterable[str]) -> list[DiskSpace]:
    """The file systems of ``roots`` (project folders, temp roots), each once, with its free space now.

    A root that cannot be read (gone, no permission) is left out. Reads the disk: call it in a worker."""
    by_device: dict[int, list[str]] = {}
    for root in roots:
        try:
            by_device.setdefault(os.stat(root).st_dev, []).append(root)
        except OSError:
            continue
    out = []
    for device, members in by_device.items():
        try:
            usage = shutil.disk_usage(members[0])
        except OSError:
            continue
        out.append(DiskSpace(device, _mount_of(members[0]), int(usage.free), int(usage.total), tuple(sorted(members))))
    out.sort(key=lambda d: d.mount)
    return out


Rect = tuple[float, float, float, float]


def squarify(sizes: Sequence[int], rect: Rect) -> list[Rect]:
    """A squarified treemap (Bruls, Huizing, van Wijk 2000): one rectangle per size inside ``rect``, areas
    proportional to the sizes, as close to squares as the row-by-row layout allows. ``sizes`` should be
    sorted largest first; zero and negative sizes get empty rectangles. Returns them in the order given."""
    x, y, w, h = rect
    total = float(sum(s for s in sizes if s > 0))
    out: list[Rect] = [(x, y, 0.0, 0.0)] * len(sizes)
    if total <= 0 or w <= 0 or h <= 0:
        return out
    scale = w * h / total
    todo = [(i, s * scale) for i, s in enumerate(sizes) if s > 0]

    def worst(row: list[float], side: float) -> float:
        area = sum(row)
        if area <= 0 or side <= 0:
            return float("inf")
        return max(max(side * side * r / (area * area), (area * area) / (side * side * r)) for r in row)

    while todo:
        side = min(w, h)
        row: list[tuple[int, float]] = []
        while todo:
            candidate = row + [todo[0]]
            if row and worst([a for _, a in candidate], side) > worst([a for _, a in row], side):
                break
            row = candidate
            todo.pop(0)
        area = sum(a for _, a in row)
        if w >= h:  # a column on the left, as wide as its area needs
            width = area / h if h else 0.0
            top = y
            for i, a in row:
                height = a / width if width else 0.0
                out[i] = (x, top, width, height)
                top += height
            x, w = x + width, w - width
        else:  # a row at the top
            height = area / w if w else 0.0
            left = x
            for i, a in row:
                width = a / height if height else 0.0
                out[i] = (left, y, width, height)
                left += width
            y, h = y + height, h - height
    return out


def folder_sizes(catalog: Catalog, project_id: int, role: str,
                 cancel: CancelToken | None = None) -> list[tuple[str, int, int]]:
    """``(folder, bytes, files)`` of one role of one project, by the folder (relative to the project's root)
    that holds the files, largest first: the map's third level. Walks the profile's folders without
    following links or crossing mounts (``core.walk``), like a scan; shared cache files are the ones the
    project references. Reads only; raises ``Cancelled``. For a worker."""
    project = get_project(catalog, project_id)
    profile = get_profile(project.profile)
    totals: dict[str, list[int]] = {}

    def add(rel: str, size: int) -> None:
        folder = rel.rsplit("/", 1)[0] if "/" in rel else "."
        slot = totals.setdefault(folder, [0, 0])
        slot[0] += size
        slot[1] += 1

    if role == Role.SHARED_CACHE.value:
        for art in artifacts_of(catalog, project_id):
            if art.role is Role.SHARED_CACHE:
                try:
                    st = os.lstat(art.path)
                except OSError:
                    continue
                add(os.path.relpath(art.path, project.root).replace(os.sep, "/"), st.st_size)
    else:
        key = project.key if profile.uses_project else None
        try:
            root_dev = os.lstat(project.root).st_dev
        except OSError:
            return []
        seen = 0
        for prefix in profile.walk_prefixes(key):
            for entry in walk(project.root, prefix, root_dev):
                if entry.kind != "file" or entry.st is None:
                    continue
                seen += 1
                if cancel is not None and seen % 1000 == 0:
                    cancel.raise_if_cancelled()
                found = profile.classify(entry.rel, key)
                if found is not None and found.role.value == role:
                    add(entry.rel, entry.st.st_size)
    return sorted(((f, b, n) for f, (b, n) in totals.items()), key=lambda t: (-t[1], t[0]))
