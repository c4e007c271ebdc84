"""Text formatting for the command line: sizes, relative times, tables, plan listings (names escaped)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from typing import Any

import humanize

from ..core.catalog import display_path, parse_iso, utcnow  # noqa: F401 (display_path: used by cli.sweep)
from ..core.plan import PlanPage
from ..core.text import printable


def size(nbytes: int) -> str:
    return humanize.naturalsize(nbytes)


def ago(when: str | None) -> str:
    if not when:
        return "never"
    return humanize.naturaltime(utcnow() - parse_iso(when), when=dt.datetime.now())


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK, emoji) characters two, combining marks none."""
    return sum(0 if unicodedata.combining(c) or c in "\u200c\u200d\ufe0f" else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows: list[list[str]], header: list[str]) -> str:
    """Columns padded with spaces (by display width); every cell shown through :func:`printable`."""
    cells = [[printable(str(c)) for c in r] for r in [header, *rows]]
    widths = [max(width(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c + " " * (w - width(c)) for c, w in zip(r, widths)).rstrip() for r in cells)


def plan_text(page: PlanPage, names: dict[int, str], limit: int = 20) -> str:
    """A plan grouped by role (or group) with sizes, the first items of each group, kept-back items with
    their reasons, and the total line — from a :class:`~core.plan.PlanPage` (never the whole plan)."""
    plan = page.plan
    out = [f"Plan {plan.id} ({plan.kind}, {plan.status}) — {printable(plan.summary)}".rstrip(" —")]
    shown: dict[str, list[Any]] = defaultdict(list)
    for item in page.items:
        shown[item.group or item.role].append(item)
    for group, count, nbytes in page.groups:
        out.append(f"\n  {printable(group)}: {count} item(s), {size(nbytes)}")
        items = shown.get(group, [])
        for item in items[:limit]:
            mark = " " if item.selected else "-"
            out.append(f"   {mark} {size(item.size):>10}  {printable(item.target)}")
        if count > min(limit, len(items)):
            out.append(f"     … and {count - min(limit, len(items))} more")
    if plan.kept_count:
        out.append(f"\n  kept back: {plan.kept_count}")
        for kept in page.kept[:limit]:
            owner = f" [{printable(names[kept.project_id])}]" if kept.project_id in names else ""
            out.append(f"     {printable(kept.target)}{owner} — {kept.reason.value}: {printable(kept.detail)}")
        if plan.kept_count > limit:
            out.append(f"     … and {plan.kept_count - min(limit, len(page.kept))} more")
    out.append("\n" + page.total_line())
    return "\n".join(out)
