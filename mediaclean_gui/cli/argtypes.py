"""Checked argument types for every command: numbers and times range-checked at the parser.

Each factory returns an ``argparse`` ``type=`` callable that raises
``argparse.ArgumentTypeError`` with the words a user reads; the parser turns it into one
sentence and exit 2 (SPEC section 4). Bounds keep every value inside SQLite's 64-bit
integers and inside what ``datetime`` arithmetic can do (ages are measured back from the
instant, so a retention of a million years overflows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable

from ..core.catalog import parse_iso

INT64_MAX = 2**63 - 1
MAX_DAYS = 36_500  # 100 years
MAX_HOURS = MAX_DAYS * 24
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc)
_SHOWN = 40  # characters of a rejected value repeated in the sentence


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _range(low: int | float, high: int | float) -> str:
    def shown(x: int | float) -> str:
        return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"

    return f"from {shown(low)} to {shown(high)}"


def whole(low: int = 0, high: int = INT64_MAX, what: str = "a whole number") -> Callable[[str], int]:
    """A whole number ``low <= n <= high`` (decimal digits, an optional sign)."""

    def parse(text: str) -> int:
        stripped = text.strip()
        digits = stripped[1:] if stripped[:1] in "+-" else stripped
        if not digits.isdigit() or not digits.isascii():
            raise argparse.ArgumentTypeError(f"needs {what} {_range(low, high)}, not {_shown(text)}")
        if len(digits) > 30:  # no need to build a huge int to know it is out of range
            raise argparse.ArgumentTypeError(f"needs {what} {_range(low, high)}, not {_shown(text)}")
        value = int(stripped)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"needs {what} {_range(low, high)}, not {_shown(text)}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(low: float = 0.0, high: float = MAX_HOURS, what: str = "a number") -> Callable[[str], float]:
    """A finite decimal number ``low <= x <= high``: ``nan``, ``inf`` and negatives are refused."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"needs {what} {_range(low, high)}, not {_shown(text)}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"needs {what} {_range(low, high)}, not {_shown(text)}")
        return value

    parse.__name__ = "number"
    return parse


def instant(text: str) -> str:
    """An ISO-8601 time between 1970 and 2200 (UTC when it has no offset); returned as given."""
    example = "such as 2026-12-01T00:00:00Z"
    try:
        value = parse_iso(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"needs an ISO-8601 time {example}, not {_shown(text)}") from None
    if not EARLIEST <= value < LATEST:
        raise argparse.ArgumentTypeError(f"needs a time from 1970 to 2199, {example}, not {_shown(text)}")
    return text


def text(what: str, longest: int) -> Callable[[str], str]:
    """Non-empty text (not only spaces) of at most ``longest`` characters, e.g. a name or a path."""

    def parse(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(f"needs {what}, not an empty text")
        if len(value) > longest:
            raise argparse.ArgumentTypeError(f"needs {what} of at most {longest:,} characters, not one of "
                                             f"{len(value):,}")
        return value

    parse.__name__ = what
    return parse


def allow_broad_root(parser: argparse.ArgumentParser) -> None:
    """The same confirmation on every command that takes a workspace or temp root (core/roots.py)."""
    parser.add_argument("--allow-broad-root", action="store_true",
                        help="accept /, a home folder or a system folder as the root (refused without it)")


#: an id of something stored in the catalog (plan, run): SQLite's INTEGER PRIMARY KEY range
record_id = whole(1, INT64_MAX)
#: how many of something (a listing's length, a delete limit)
count = whole(0, INT64_MAX)
#: whole days, e.g. a retention period
days = whole(0, MAX_DAYS, "a whole number of days")
#: whole hours, e.g. a grace period
whole_hours = whole(0, MAX_HOURS, "a whole number of hours")
#: hours, with decimals, e.g. a temp folder's age
hours = number(0.0, MAX_HOURS, "a number of hours")
#: a file or folder (Linux's PATH_MAX)
path = text("a path", 4096)
#: a name or id that becomes one path component ({project} in a profile): NAME_MAX
name = text("a name", 255)
def _project(value: str) -> str:
    checked = text("a project id or name", 1000)(value)
    if checked.isdigit() and len(checked) > 18 and int(checked) > INT64_MAX:
        raise argparse.ArgumentTypeError(f"needs a project id from 1 to {INT64_MAX:,} or a name, not {_shown(value)}")
    return checked


#: a project as the user names it: its id, name or external id
project = _project
#: a preference's value
value = text("a value", 1000)
