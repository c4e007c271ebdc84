"""Names as safe text: control characters in file names, object keys and ids shown escaped, never acted on.

A file may be called ``"a.mp4\\n   12 MB  /home/me/final.mp4"`` or carry terminal escape
sequences (``\\x1b[2K``) or right-to-left overrides; printed raw, such a name can fake
lines of a plan preview or hide what it is. Every text output (the command line's plan
listings and messages, the window's labels) shows names through :func:`printable`. JSON
output needs no help: JSON escapes control characters itself.
"""

from __future__ import annotations

import os
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: format characters kept as they are: zero-width (non-)joiners build emoji and Indic and Persian words
_JOINERS = frozenset("\u200c\u200d")
#: Unicode categories that do not belong raw in one line of text: controls, surrogates (undecodable
#: bytes), line and paragraph separators, and format characters (bidirectional overrides, ...)
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp", "Cf"})


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for a byte that is not UTF-8
        return "\ufffd"  # shown as catalog.display_path shows it
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str | bytes | os.PathLike[str]) -> str:
    """``text`` on one line, with every control character shown as an escape.

    ``"\\n"`` → ``\\n``, ESC → ``\\x1b``, U+202E (right-to-left override) → ``\\u202e``; an
    undecodable byte of a file name (bytes, or ``os.fsdecode``'s surrogate) → U+FFFD, as
    :func:`.catalog.display_path` shows it.
    Letters, digits, punctuation, spaces of every script, emoji (with their joiners) are
    kept as they are. A backslash is not escaped, so a name with none of these characters
    is shown exactly.
    """
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    elif not isinstance(text, str):
        text = os.fsdecode(os.fspath(text))
    if text.isprintable():
        return text  # the common case, and the cheap one
    out = []
    for ch in text:
        if ch.isprintable() or ch in _JOINERS:
            out.append(ch)
        elif unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            out.append(_escape(ch))
        else:
            out.append(ch)  # spaces of other scripts (Zs), private use and unassigned characters
    return "".join(out)


def printable_lines(text: str) -> str:
    """Several lines of output, each made :func:`printable` (the line breaks themselves are kept)."""
    return "\n".join(printable(line) for line in text.split("\n"))
