"""core/text.py: names shown on one line with their control characters escaped."""

from __future__ import annotations

import os

import pytest

from mediaclean_gui.core.text import printable, printable_lines


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("final.mp4", "final.mp4"),
        ("a\nb", "a\\nb"),
        ("tab\there\r", "tab\\there\\r"),
        ("red\x1b[31mtext\x1b[0m", "red\\x1b[31mtext\\x1b[0m"),
        ("bell\x07 del\x7f c1\x9b", "bell\\x07 del\\x7f c1\\x9b"),
        ("invoice\u202egnp.exe", "invoice\\u202egnp.exe"),  # a right-to-left override hides the real ending
        ("line\u2028sep", "line\\u2028sep"),
        ("Øresund — 東京\u3000渋谷 café", "Øresund — 東京\u3000渋谷 café"),  # every script's letters and spaces
        ("family 👨\u200d👩\u200d👧.mp4", "family 👨\u200d👩\u200d👧.mp4"),  # emoji joiners kept
        ("back\\slash\\n", "back\\slash\\n"),
        (os.fsdecode(b"scene-\xff\xfe.mp4"), "scene-\ufffd\ufffd.mp4"),  # undecodable bytes, as display_path
        (b"raw-\x1b-\xff", "raw-\\x1b-\ufffd"),
    ],
)
def test_printable(name, shown):
    assert printable(name) == shown
    assert "\n" not in printable(name) and "\x1b" not in printable(name)


def test_printable_lines_keeps_the_line_breaks_only():
    assert printable_lines("Plan 1\n  a\x1b[2Kb\n\tend") == "Plan 1\n  a\\x1b[2Kb\n\\tend"
