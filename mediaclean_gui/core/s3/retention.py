"""The retention rules of a bucket sweep (F4, F5, seed 004) as pure functions over one listed object."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _json_string  # what json.dumps writes for a str
from typing import Any

from ..plan import Reason
from ..profiles import Profile, Role
from .pipeline import ClipRef, JobState, SourceRef

F5_GROUP = "job sources"
TOP_LEVEL = "(top level)"


@dataclass(frozen=True)
class ListedObject:
    """One object from ``list_objects_v2``. ``key`` is the full key, ``rel`` relative to the remote's
    prefix; ``size`` bytes; ``last_modified`` UTC; ``etag`` with its quotes, as the store sends it."""

    key: str
    rel: str
    size: int
    etag: str
    last_modified: dt.datetime
    version_id: str | None = None

    @classmethod
    def from_listing(cls, entry: dict[str, Any], prefix: str) -> "ListedObject":
        """From one ``Contents`` entry of a ``list_objects_v2`` page."""
        key = str(entry["Key"])
        modified = entry["LastModified"]
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=dt.timezone.utc)
        return cls(
            key=key,
            rel=key[len(prefix):] if prefix and key.startswith(prefix) else key,
            size=int(entry.get("Size", 0)),
            etag=str(entry.get("ETag", "")),
            last_modified=modified.astimezone(dt.timezone.utc),
            version_id=entry.get("VersionId"),
        )

    def fingerprint(self) -> dict[str, Any]:
        """The plan item's fingerprint (SPEC section 1): ETag, LastModified (UTC ISO-8601), size, VersionId."""
        fp: dict[str, Any] = {
            "etag": self.etag,
            "last_modified": self.last_modified.isoformat()[:19] + "Z",  # UTC, whole seconds
            "size": self.size,
        }
        if self.version_id:
            fp["version_id"] = self.version_id
        return fp

    def fingerprint_json(self) -> str:
        """:meth:`fingerprint` as ``json.dumps`` writes it, without building the dict (one per listed object)."""
        if self.version_id:
            return json.dumps(self.fingerprint())
        return (f'{{"etag": {_json_string(self.etag)}, "last_modified": "{self.last_modified.isoformat()[:19]}Z", '
                f'"size": {self.size}}}')

    @property
    def top_prefix(self) -> str:
        """The first folder of ``rel`` with its slash (``clips/``), or ``""`` for a key at the top level."""
        head, sep, _ = self.rel.partition("/")
        return head + "/" if sep else ""


@dataclass(frozen=True)
class RetentionPolicy:
    """What a sweep keeps (seed 004, SPEC F4).

    ``retention_days`` for clips (default 5), ``grace_hours`` for every other
    object (default 24); ages are measured at ``as_of`` (UTC).
    """

    retention_days: int
    grace_hours: int
    as_of: dt.datetime

    @property
    def clip_cutoff(self) -> dt.datetime:
        """Clips modified (or completed clips created) at or after this instant are kept."""
        return self.as_of - dt.timedelta(days=self.retention_days)

    @property
    def grace_cutoff(self) -> dt.datetime:
        """Other objects modified at or after this instant are kept."""
        return self.as_of - dt.timedelta(hours=self.grace_hours)

    def as_json(self) -> dict[str, Any]:
        return {"retention_days": self.retention_days, "grace_hours": self.grace_hours,
                "as_of": self.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")}


@dataclass(frozen=True)
class Decision:
    """What the sweep does with one object: delete it (``reason is None``) or keep it for ``reason``.

    ``rule`` says in words why it is deleted, ``detail`` why it is kept;
    ``group`` is the preview group (by top-level prefix and reason, or F5);
    ``role`` the artifact role of the object.
    """

    delete: bool
    role: str
    group: str
    rule: str = ""
    reason: Reason | None = None
    detail: str = ""
    f5: bool = False


@dataclass(frozen=True)
class Facts:
    """What is known about one object besides its listing: the catalog's protection note, whether it is
    the only copy of an uploaded output (the sentence saying so), the pipeline database's completed clip
    record and job source records (empty when no database is linked)."""

    protected: str | None = None
    only_copy: str | None = None
    completed_clip: ClipRef | None = None
    sources: tuple[SourceRef, ...] = field(default_factory=tuple)


def _age(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _prefix_label(obj: ListedObject) -> str:
    return obj.top_prefix or TOP_LEVEL


def decide(obj: ListedObject, policy: RetentionPolicy, profile: Profile, facts: Facts = Facts()) -> Decision:
    """Apply the sweep's rules to one object, in this order:

    1. marked protected in the catalog → kept (``protected``); the only copy of an output mediaclean
       uploaded and deleted locally → kept (``protected``, "only copy: …", SPEC F3);
    2. a role the layout protects (final, thumbnail) → kept (``protected``);
    3. a clip (role ``output`` in the layout, e.g. ``clips/**``, or a completed clip the pipeline
       database records): kept when the database records it completed but its date cannot be read
       (``cannot be read``, invariant 15); kept while the database records it completed and created within
       ``retention_days`` (``protected``) or while it was modified within ``retention_days``
       (``newer than the retention period``); deleted after that;
    4. any other object (uploads, extracted audio, artifacts): kept while it is the original or audio of
       an unfinished job (``belongs to an unfinished job``); deleted at once when it is the original or
       audio of a job whose clips are all completed (F5); otherwise kept for ``grace_hours`` after it
       was modified (``newer than the retention period``, with the grace period named), deleted after.

    Pure: no I/O. Seed 004 ("Logic" and "Automatic Cleanup"), SPEC F4/F5.
    """
    top = _prefix_label(obj)
    classified = profile.classify(obj.rel)
    role = classified.role if classified is not None else Role.SOURCE
    age = _age(policy.as_of - obj.last_modified)
    if facts.protected is not None:
        return Decision(False, role.value, f"{top} · protected", reason=Reason.PROTECTED, detail=facts.protected)
    if facts.only_copy is not None:
        return Decision(False, role.value, f"{top} · only copies of uploads", reason=Reason.PROTECTED,
                        detail=facts.only_copy)
    if role.protected:
        return Decision(False, role.value, f"{top} · protected", reason=Reason.PROTECTED,
                        detail=f"{role.value} in layout {profile.name}")
    clip = facts.completed_clip
    if role is Role.OUTPUT or clip is not None:
        role = Role.OUTPUT
        days = policy.retention_days
        if clip is not None and clip.created_at is None:
            # a date that cannot be read never makes a clip deletable (invariant 15)
            return Decision(False, role.value, f"{top} · completion date unreadable", reason=Reason.UNREADABLE,
                            detail=f"its completion date cannot be read: {clip.raw_created_at or 'NULL'} "
                                   f"(completed clip {clip.clip_id} of job {clip.job_id})")
        if clip is not None and clip.created_at is not None and clip.created_at >= policy.clip_cutoff:
            created = clip.created_at.strftime("%Y-%m-%d %H:%M UTC")
            return Decision(False, role.value, f"{top} · protected", reason=Reason.PROTECTED,
                            detail=f"completed clip {clip.clip_id} of job {clip.job_id}, created {created}, "
                                   f"within the {days}-day retention period")
        if obj.last_modified >= policy.clip_cutoff:
            return Decision(False, role.value, f"{top} · newer than the retention period", reason=Reason.TOO_NEW,
                            detail=f"modified {age} ago; clips are kept for {days} days")
        return Decision(True, role.value, f"{top} · older than {days} days",
                        rule=f"clip older than the {days}-day retention period (modified {age} ago)")
    unfinished = [s for s in facts.sources if s.state is JobState.UNFINISHED]
    if unfinished:
        return Decision(False, role.value, f"{top} · unfinished jobs", reason=Reason.UNFINISHED_JOB,
                        detail="; ".join(s.describe() for s in unfinished))
    finished = [s for s in facts.sources if s.state is JobState.FINISHED]
    if finished:
        return Decision(True, Role.SOURCE.value, F5_GROUP, f5=True,
                        rule=f"{finished[0].describe()}: its job is finished, so its sources go")
    hours = policy.grace_hours
    if obj.last_modified >= policy.grace_cutoff:
        return Decision(False, role.value, f"{top} · within the grace period", reason=Reason.TOO_NEW,
                        detail=f"modified {age} ago; temporary objects are kept for the {hours} h grace period")
    return Decision(True, role.value, f"{top} · temporary, older than {hours} h",
                    rule=f"temporary object older than the {hours} h grace period (modified {age} ago)")
