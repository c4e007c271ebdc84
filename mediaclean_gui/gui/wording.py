"""The window's words for counts, sizes, groups and reasons: one function per sentence, used everywhere."""

from __future__ import annotations

import re
from typing import Any

import humanize

from ..core.run import Counts, LimitCheck, counts_sentence
from .pref_fields import field_name

#: Plan group keys (roles) as a creator reads them.
GROUP_LABELS = {
    "intermediate": "Intermediates",
    "shared_cache": "Shared cache",
    "output": "Outputs",
    "temp": "Temp folders",
    "source": "Sources",
    "orphans": "Orphans",
    "final": "Final render",
    "thumbnail": "Thumbnail",
}

#: Run outcomes as words (the run's items, the preview's marks).
OUTCOME_WORDS = {
    "deleted": "deleted",
    "already_gone": "already gone",
    "failed": "failed",
    "skipped": "skipped",
    "pending": "not done",
    "uploaded": "uploaded",
    "trashed": "moved to the trash",
}

# developer references that core texts may still carry (a seed document's number with or without an acceptance
# criterion's, a function's number, a table.column name), in parentheses or after a comma: each such part goes,
# the rest of the parenthesis stays
_REFERENCE = re.compile(r"^(?:seed \d{3}(?:/\d{3})?(?: (?:AC-\d{3}(?:/\d+)*|task \d+))?"
                        r"|AC-\d{3}|F[1-9]|[a-z_]+\.[a-z_]+)$")
_PARENS = re.compile(r"\s*\(([^()]*)\)")
_BARE = re.compile(r",?\s*\bseed \d{3}(?: AC-\d{3})?\b")


def _strip_parens(match: re.Match[str]) -> str:
    parts = [p.strip() for p in match.group(1).split(",")]
    kept = [part for part in parts if not _REFERENCE.match(part)]
    if len(kept) == len(parts):
        return match.group(0)  # no reference in it: "run(s)", "(3)" stay as written
    return f" ({', '.join(kept)})" if kept else ""


def size_text(nbytes: int) -> str:
    """Bytes as people read them, SI units (``humanize.naturalsize``: 1 MB = 1,000,000 bytes)."""
    return str(humanize.naturalsize(nbytes))


# command-line syntax in core messages: a flag, or a "mediaclean <command>" to type
_COMMAND_LINE = re.compile(r"(?<![\w-])--[a-z]|'?\bmediaclean [a-z]|\bon the command line\b"
                           r"|'(?:remote|project) [a-z-]+'")
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“'])")
_PREFERENCE = re.compile(r"(?:\bthe )?\(?\bpreference ([a-z_]+)\)?")


def _name_field(match: re.Match[str]) -> str:
    name = field_name(match.group(1))
    if name is None:
        return match.group(0)
    return f"({name})" if match.group(0).startswith("(") else name


def _without_command_line(text: str) -> str:
    parts = []
    for sentence in _SENTENCES.split(text):
        # a parenthesis that only tells the command line drops; a sentence that does goes whole
        sentence = re.sub(r"\s*\([^()]*\)", lambda m: "" if _COMMAND_LINE.search(m.group(0)) else m.group(0),
                          sentence)
        if not _COMMAND_LINE.search(sentence):
            parts.append(sentence)
    return " ".join(parts) if parts else text


def plain(text: str) -> str:
    """A core text as the window shows it: without the requirement references written for developers
    (``seed 002 AC-003``, ``F5``), preferences named by the window's own fields (``Preferences › Safety ›
    “Ask again above”`` for ``preference max_delete_count``), and without command-line syntax (a
    sentence telling what to type, a flag): what the creator reads keeps the words and loses the ids."""
    cleaned = _BARE.sub("", _PARENS.sub(_strip_parens, text))
    cleaned = _without_command_line(_PREFERENCE.sub(_name_field, cleaned))
    return re.sub(r"\s{2,}", " ", cleaned).strip()


def tells_command_line(text: str) -> bool:
    """Whether ``text`` still tells what to type on the command line (a note that is only that is left out)."""
    return bool(_COMMAND_LINE.search(text))


def count_noun(n: int, noun: str) -> str:
    """``1 file``, ``2 files``, ``1,204 objects``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def total_line(files: int, nbytes: int, kept: int, objects: bool = False, verb: str = "delete") -> str:
    """The preview's total line (SPEC section 5): ``Will delete 152 files · 1.2 GB · 3 kept``, the core's one
    sentence for counts (``core.run.counts_sentence``, planned); ``Will move 152 files to the trash · …`` when
    ``verb`` is ``trash``; ``Will upload …`` for an upload plan."""
    noun = "object" if objects else "file"
    if verb == "upload":
        return f"Will upload {files} {noun}{'' if files == 1 else 's'} · {size_text(nbytes)} · {kept} kept"
    if verb == "trash":
        return counts_sentence(Counts(trashed=files, trashed_bytes=nbytes, noun=noun), planned=True, kept=kept)
    return counts_sentence(Counts(deleted=files, freed_bytes=nbytes, noun=noun), planned=True, kept=kept)


def run_sentence(run: dict[str, Any]) -> str:
    """What a past run did (a ``core.history.list_runs`` row), in the one sentence for counts, told as it
    stands now: a trash-mode run says what it moved to the trash, then what came back (a restore) and what
    was freed since (the trash emptied) — ``Moved 7 files to the trash (90.1 kB) · 2 restored (25.3 kB) ·
    trash emptied since: freed 64.8 kB``."""
    counts = run_counts(run)
    if run.get("mode") != "trash" or not counts.trashed:
        return counts_sentence(counts)
    emptied, counts.freed_bytes = counts.freed_bytes, 0  # a move freed nothing: what is freed came from emptying
    text = counts_sentence(counts)
    restored, restored_bytes = int(run.get("restored_count") or 0), int(run.get("restored_bytes") or 0)
    if not (emptied or restored):
        return text
    text = text.replace(", nothing freed yet)", ")")
    if restored:
        text += f" · {restored:,} restored ({size_text(restored_bytes)})"
    if emptied:
        text += f" · trash emptied since: freed {size_text(emptied)}"
    elif restored < counts.trashed:
        text += " · the rest is still in the trash (nothing freed yet)"
    return text


def run_counts(run: dict[str, Any]) -> Counts:
    """The counts of a past run (a ``core.history.list_runs`` row)."""
    return Counts(deleted=int(run.get("deleted_count") or 0), trashed=int(run.get("trashed_count") or 0),
                  skipped=int(run.get("skipped_count") or 0), failed=int(run.get("failed_count") or 0),
                  freed_bytes=int(run.get("freed_bytes") or 0), trashed_bytes=int(run.get("trashed_bytes") or 0),
                  noun="object" if run.get("kind") == "sweep" else "file")


def uploaded_sentence(files: int, nbytes: int, rest: str) -> str:
    """An upload run: ``Uploaded 12 files · 40.0 MB`` before the counts sentence of what it deleted."""
    return f"Uploaded {count_noun(files, 'file')} · {size_text(nbytes)} · {rest}"


def group_label(key: str) -> str:
    """A plan group's title: a role as words, or a sweep's own group text (``clips/ · older than 5 days``)."""
    return GROUP_LABELS.get(key, key or "Items")


def outcome_word(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome.replace("_", " "))


def broad_question(path: str, purpose: str, why: str, action: str) -> str:
    """The question before a broad folder (``/``, a home folder, a system folder) becomes a workspace or temp
    root: ``The folder /home/ana is your home folder. …``; ``action`` is the button (``Add it anyway``)."""
    advice = "the project's own folder" if purpose == "workspace" else "the folder your renderer writes its temp " \
                                                                     "folders to"
    return (f"The folder {path} {why}. As a {purpose}, mediaclean would plan deletions anywhere in it — every "
            f"preview still asks before anything is deleted, but automatic cleanups do not ask.\n\nChoose "
            f"{advice} instead, or {action[0].lower()}{action[1:]}?")


def limit_words(check: LimitCheck) -> str:
    """What a delete limit says of a plan, naming the window's own field: ``the plan deletes 12,000 files, more
    than the limit of 10,000 (Preferences › Safety › “Ask again above”)``."""
    key = "max_delete_count" if check.exceeded == "count" else "max_delete_share"
    return f"{check.sentence()} ({field_name(key)})"


def limit_question(check: LimitCheck) -> str:
    """The second confirmation above a delete limit (invariant 8)."""
    return (f"This plan is above your safety limit: {limit_words(check)}.\n\nRun it anyway? (Or keep it back and "
            f"raise the limit in the Preferences.)")
