"""F8 lifecycle export: the S3 Lifecycle rules that enforce a remote's retention policy in the store itself."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog
from ..profiles import Profile, get_profile
from .listing import read_versioning, sweep_client
from .remote import Remote, error_code, explain_s3_error, get_remote

RULE_PREFIX = "mediaclean-"
_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def grace_days(grace_hours: int) -> int:
    """Lifecycle rules count whole days: the grace period rounded up, at least 1."""
    return max(1, math.ceil(grace_hours / 24))


def _rule_id(base: str, taken: set[str]) -> str:
    slug = _ID_CHARS.sub("_", base).strip("_-")
    rule_id = (RULE_PREFIX + (slug or "rule"))[:240]
    candidate, n = rule_id, 2
    while candidate in taken:
        candidate, n = f"{rule_id}-{n}", n + 1
    taken.add(candidate)
    return candidate


def layout_prefixes(profile: Profile) -> tuple[list[str], list[str], list[str]]:
    """``(clip prefixes, protected prefixes, patterns without a fixed folder)`` of a layout, relative, ending in ``/``.

    Clips are the ``output`` role (``clips/**`` in ``clips-bucket``); protected
    are ``final``/``thumbnail``.
    """
    clips: list[str] = []
    protected: list[str] = []
    loose: list[str] = []
    for rule in profile.rules:
        if rule.role.value not in ("output", "final", "thumbnail"):
            continue
        fixed = rule.static_prefix(None)
        if not fixed:
            loose.append(rule.pattern)
            continue
        (clips if rule.role.value == "output" else protected).append(fixed.rstrip("/") + "/")
    return sorted(set(clips)), sorted(set(protected)), loose


def build_rules(
    prefix: str,
    *,
    clip_prefixes: list[str],
    temp_prefixes: list[str],
    retention_days: int,
    grace_hours: int,
    versioned: bool,
    noncurrent_days: int = 1,
) -> list[dict[str, Any]]:
    """mediaclean's lifecycle rules (IDs start with ``mediaclean-``), as boto3 takes them. Pure.

    - ``clips/`` (each clip prefix): ``Expiration`` after ``retention_days`` (seed 004);
    - each temporary top-level prefix: ``Expiration`` after the grace period in whole days;
    - the remote's prefix: ``AbortIncompleteMultipartUpload`` after 1 day;
    - on a versioned bucket: ``NoncurrentVersionExpiration`` after ``noncurrent_days`` and
      ``ExpiredObjectDeleteMarker`` (the delete markers a sweep leaves go once nothing is behind them).

    Prefixes are relative to ``prefix`` (the remote's) and end in ``/``.
    """
    taken: set[str] = set()
    rules: list[dict[str, Any]] = []
    for clip in clip_prefixes:
        rules.append({"ID": _rule_id(f"clips-{clip}" if clip != "clips/" else "clips", taken),
                      "Filter": {"Prefix": prefix + clip}, "Status": "Enabled",
                      "Expiration": {"Days": max(1, retention_days)}})
    for temp in temp_prefixes:
        rules.append({"ID": _rule_id(f"temp-{temp}", taken), "Filter": {"Prefix": prefix + temp},
                      "Status": "Enabled", "Expiration": {"Days": grace_days(grace_hours)}})
    rules.append({"ID": _rule_id("abort-incomplete-multipart-uploads", taken), "Filter": {"Prefix": prefix},
                  "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})
    if versioned:
        rules.append({"ID": _rule_id("noncurrent-versions", taken), "Filter": {"Prefix": prefix},
                      "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": max(1, noncurrent_days)},
                      "Expiration": {"ExpiredObjectDeleteMarker": True}})
    return rules


MAX_NARROW_DEPTH = 4   # folder levels below a rule's prefix that narrowing descends
MAX_NARROWED_RULES = 200  # rules narrowing may add (S3 allows 1,000 rules per bucket)


@dataclass(frozen=True)
class Kept:
    """Objects no proposed lifecycle rule may expire: full keys, with the words that say why
    (``3 only copies of uploaded outputs``)."""

    keys: frozenset[str]
    why: dict[str, str]

    def under(self, prefix: str) -> list[str]:
        return sorted(k for k in self.keys if k.startswith(prefix))


def narrow_rules(rules: list[dict[str, Any]], kept: Kept, list_level: Any,
                 taken: set[str] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Rewrite the expiring rules so that none covers a kept object (SPEC F3, F8); ``(rules, cannot_express)``.

    A rule whose prefix holds no kept object stays as it is. One that does is replaced by rules for
    the folders below it that hold none, descending at most :data:`MAX_NARROW_DEPTH` levels
    (``list_level(prefix)`` returns ``(folders, direct object count)`` under a full prefix, as a
    ``Delimiter='/'`` listing does); what cannot be covered that way — objects lying directly beside
    kept ones, folders deeper down, folders created later — gets no rule and is named in the sentences
    returned. Rules that expire nothing (aborting multipart uploads, noncurrent versions, delete
    markers) are kept unchanged. Pure apart from ``list_level``.
    """
    taken = taken if taken is not None else {str(r.get("ID", "")) for r in rules}
    out: list[dict[str, Any]] = []
    cannot: list[str] = []
    added = 0
    for rule in rules:
        prefix = str(rule.get("Filter", {}).get("Prefix", ""))
        days = rule.get("Expiration", {}).get("Days")
        inside = kept.under(prefix) if days is not None else []
        if not inside:
            out.append(rule)
            continue
        why = ", ".join(f"{n} {what}" for what, n in _count_why(kept, inside).items())
        narrowed: list[str] = []
        loose: list[str] = []
        pending = [(prefix, 0)]
        while pending:
            current, depth = pending.pop(0)
            folders, direct = list_level(current)
            if direct:
                loose.append(current)
            for folder in folders:
                if not kept.under(folder):
                    narrowed.append(folder)
                elif depth + 1 < MAX_NARROW_DEPTH:
                    pending.append((folder, depth + 1))
                else:
                    loose.append(folder)
        room = MAX_NARROWED_RULES - added
        if len(narrowed) > room:
            cannot.append(f"'{prefix}' holds {why}; it would need {len(narrowed)} narrower rules, more than "
                          f"mediaclean proposes, so it gets no rule (the sweep still applies the policy).")
            continue
        for folder in narrowed:
            out.append({**rule, "ID": _rule_id(f"{rule['ID'][len(RULE_PREFIX):]}-{folder[len(prefix):]}", taken),
                        "Filter": {"Prefix": folder}})
        added += len(narrowed)
        spots = ", ".join(f"'{p}'" for p in loose[:5]) + (f" and {len(loose) - 5} more" if len(loose) > 5 else "")
        cannot.append(
            f"'{prefix}' holds {why}, which no rule may expire: its rule is narrowed to "
            f"{len(narrowed)} folder(s) without them"
            + (f"; objects directly in {spots} get no rule" if loose else "")
            + "; folders created there later get none either (the sweep still applies the policy).")
    return out, cannot


def _count_why(kept: Kept, keys: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys:
        what = kept.why.get(key, "protected objects")
        counts[what] = counts.get(what, 0) + 1
    return counts


def merge_rules(existing: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bucket's rules with mediaclean's replaced: foreign rules kept as they are (in order), every rule
    whose ID starts with ``mediaclean-`` dropped, then ours appended."""
    kept = [r for r in existing if not str(r.get("ID", "")).startswith(RULE_PREFIX)]
    return kept + ours


def normalise_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule in one canonical form for comparing what was put with what is read back: the legacy top-level
    ``Prefix`` and an empty ``Filter`` become ``Filter: {Prefix: ""}``, dates become UTC ISO-8601 text,
    empty values are dropped."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: clean(v) for k, v in value.items() if v not in (None, [], {})}
            return {k: v for k, v in out.items() if v not in (None, [], {})}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dt.datetime):
            stamp = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
            return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value

    out = dict(rule)
    legacy = out.pop("Prefix", None)
    filt = out.pop("Filter", None)
    if not filt:
        filt = {"Prefix": legacy or ""}
    result: dict[str, Any] = clean(out)
    result["Filter"] = clean(filt) or {"Prefix": ""}
    return result


@dataclass
class LifecycleExport:
    """What ``mediaclean lifecycle`` shows: our ``rules``, what they ``cannot_express``, the bucket's
    ``existing`` rules, the ``merged`` configuration, and after ``--apply`` whether it was ``applied``
    and ``verified`` by reading it back (``mismatches`` says what differs)."""

    remote: str
    bucket: str
    versioning: str
    rules: list[dict[str, Any]]
    cannot_express: list[str]
    existing: list[dict[str, Any]]
    merged: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    applied: bool = False
    verified: bool = False
    read_back: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote, "bucket": self.bucket, "versioning": self.versioning,
            "rules": [normalise_rule(r) for r in self.rules], "cannot_express": self.cannot_express,
            "existing_rules": [normalise_rule(r) for r in self.existing],
            "merged_rules": [normalise_rule(r) for r in self.merged],
            "foreign_rules_kept": sum(1 for r in self.existing if not str(r.get("ID", "")).startswith(RULE_PREFIX)),
            "notes": self.notes, "applied": self.applied, "verified": self.verified,
            "read_back": [normalise_rule(r) for r in self.read_back], "mismatches": self.mismatches,
        }


def _list_level(client: Any, bucket: str, prefix: str) -> tuple[list[str], int]:
    """The folders directly under full prefix ``prefix`` (full, ending in ``/``) and how many objects lie
    directly in it (one ``list_objects_v2`` with ``Delimiter`` per 1,000 entries)."""
    folders: list[str] = []
    loose = 0
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        folders += [str(p["Prefix"]) for p in page.get("CommonPrefixes", ())]
        loose += len(page.get("Contents", ()))
    return sorted(set(folders)), loose


def _discover(client: Any, remote: Remote) -> tuple[list[str], int]:
    """Top-level folders under the remote's prefix (relative, ending in ``/``) and how many objects lie
    directly at the top level."""
    folders, loose = _list_level(client, remote.bucket, remote.prefix)
    return [f[len(remote.prefix):] for f in folders], loose


def kept_objects(catalog: Catalog, remote: Remote, as_of: dt.datetime | None = None) -> tuple[Kept, list[str]]:
    """What no lifecycle rule of ``remote`` may expire: the only copies of uploaded outputs (unless the remote's
    ``upload_retention_days`` has passed for them at ``as_of``) and the objects the catalog marks protected.
    Also returns notes about only copies let go by ``upload_retention_days``."""
    from .protections import only_copies_under, releases

    when = as_of or dt.datetime.now(dt.timezone.utc)
    why: dict[str, str] = {}
    released = 0
    for copy in only_copies_under(catalog, remote):
        if releases(remote, copy, when):
            released += 1
            continue
        why[copy.key] = "only copies of uploaded outputs"
    for row in catalog.conn.execute("SELECT key FROM object_protections WHERE remote_id = ?", (remote.id,)):
        why.setdefault(remote.key_for(str(row[0])), "objects marked protected")
    for row in catalog.conn.execute(
            "SELECT u.key FROM uploads u JOIN artifacts a ON a.path = u.path AND a.role IN ('final', 'thumbnail') "
            "WHERE u.remote_id = ? AND substr(u.key, 1, ?) = ?", (remote.id, len(remote.prefix), remote.prefix)):
        why.setdefault(str(row[0]), "uploaded final outputs")
    notes = []
    if remote.upload_retention_days is not None:
        notes.append(f"The remote keeps uploaded only copies for {remote.upload_retention_days} day(s) after their "
                     f"local copy was deleted (upload_retention_days); {released} of them are past that and may "
                     f"expire with their prefix.")
    return Kept(frozenset(why), why), notes


def _existing_rules(client: Any, remote: Remote) -> tuple[list[dict[str, Any]], str]:
    try:
        resp = client.get_bucket_lifecycle_configuration(Bucket=remote.bucket)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "NoSuchLifecycleConfiguration":
            headers = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPHeaders", {})
            return [], str(headers.get("server", ""))
        raise
    server = str(resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("server", ""))
    return list(resp.get("Rules", [])), server


def lifecycle_export(
    catalog: Catalog,
    remote_name: str,
    *,
    retention_days: int | None = None,
    grace_hours: int | None = None,
    noncurrent_days: int = 1,
    client: Any = None,
) -> LifecycleExport:
    """The lifecycle configuration that enforces ``remote_name``'s sweep policy where a rule can (F8).

    Reads the bucket's top-level folders, versioning state and current rules;
    changes nothing. Retention and grace default to the preferences
    ``retention_days`` and ``grace_hours``. Raises :class:`NotFound` for an unknown
    remote and :class:`S3Error` (one sentence) for store errors.
    """
    remote = get_remote(catalog, remote_name)
    prefs = catalog.prefs()
    days = int(prefs["retention_days"] if retention_days is None else retention_days)
    hours = int(prefs["grace_hours"] if grace_hours is None else grace_hours)
    profile = get_profile(remote.layout)
    client = client or sweep_client(remote)
    versioning = read_versioning(client, remote, "Lifecycle export")
    try:
        folders, loose = _discover(client, remote)
        existing, server = _existing_rules(client, remote)
    except Exception as exc:  # noqa: BLE001
        raise explain_s3_error(exc, remote, "Lifecycle export") from None
    clips, protected, unfixed = layout_prefixes(profile)
    temp: list[str] = []
    cannot: list[str] = []
    for folder in folders:
        if folder in clips or folder in protected:
            continue
        inner = [p for p in clips + protected if p.startswith(folder)]
        if inner:
            cannot.append(f"'{folder}' holds {', '.join(inner)}: an expiration rule for it would also expire "
                          f"those, so it gets no rule.")
            continue
        temp.append(folder)
    versioned = versioning in ("Enabled", "Suspended")
    rules = build_rules(remote.prefix, clip_prefixes=clips, temp_prefixes=temp, retention_days=days,
                        grace_hours=hours, versioned=versioned, noncurrent_days=noncurrent_days)
    kept, kept_notes = kept_objects(catalog, remote)
    try:
        rules, narrowed = narrow_rules(rules, kept, lambda p: _list_level(client, remote.bucket, p))
    except Exception as exc:  # noqa: BLE001
        raise explain_s3_error(exc, remote, "Lifecycle export") from None
    cannot += narrowed
    cannot += _cannot_express(days, hours, loose, unfixed)
    notes = kept_notes + [
        f"Lifecycle rules count days from each object's creation and the store applies them about once a "
        f"day; the grace period of {hours} h becomes {grace_days(hours)} day(s)."]
    if versioning == "unknown":
        notes.append("The bucket's versioning state could not be read, so no NoncurrentVersionExpiration rule is "
                     "proposed.")
    elif not versioned:
        notes.append("The bucket is not versioned: expired objects are removed for good.")
    else:
        notes.append(f"The bucket is versioned ({versioning}): expiration adds delete markers; the "
                     f"NoncurrentVersionExpiration rule removes the data {noncurrent_days} day(s) later.")
    if "seaweedfs" in server.lower():
        notes.append("SeaweedFS turns an Expiration rule into a TTL stamped on each object written while the rule "
                     "exists: removing or lengthening the rule later does not save those objects.")
    return LifecycleExport(remote.name, remote.bucket, versioning, rules, cannot, existing,
                           merge_rules(existing, rules), notes)


def _cannot_express(days: int, hours: int, loose: int, unfixed: list[str]) -> list[str]:
    out = [
        "Exceptions for single objects: a rule selects by prefix, tags or size only, so the objects the catalog "
        "marks protected and the only copies of uploaded outputs are kept out of every rule by narrowing its "
        "prefix; objects uploaded there later are covered by no rule until the export runs again.",
        f"Completed clips are kept by the pipeline database's created_at; a rule only sees each object's own "
        f"age, so a clip uploaded late or rewritten is kept {days} days from its upload instead.",
        f"Unfinished jobs: the store cannot know that a job is still running, so a job's original and audio "
        f"expire after {grace_days(hours)} day(s) even when its clips are not finished (the sweep keeps them).",
        "Removing a job's sources as soon as every clip of a job is complete needs the pipeline database; a rule "
        "removes sources only after the grace period.",
    ]
    if loose:
        out.append(f"{loose} object(s) lie directly under the prefix (not in a folder): a rule for the whole prefix "
                   f"would also expire clips early, so they get no rule; folders created later get none either.")
    for pattern in unfixed:
        out.append(f"The layout pattern '{pattern}' has no fixed folder, so no prefix rule can select it.")
    return out


def apply_lifecycle(
    catalog: Catalog,
    remote_name: str,
    *,
    retention_days: int | None = None,
    grace_hours: int | None = None,
    noncurrent_days: int = 1,
    client: Any = None,
) -> LifecycleExport:
    """Merge mediaclean's rules into the bucket's lifecycle configuration, put it, read it back and compare.

    Foreign rules are kept; rules whose ID starts with ``mediaclean-`` are
    replaced. ``verified`` is true when every rule put is read back equal
    (after :func:`normalise_rule`); otherwise ``mismatches`` names the rules.
    Raises :class:`S3Error` (one sentence) when the store refuses.
    """
    export = lifecycle_export(catalog, remote_name, retention_days=retention_days, grace_hours=grace_hours,
                              noncurrent_days=noncurrent_days, client=client)
    remote = get_remote(catalog, remote_name)
    client = client or sweep_client(remote)
    try:
        client.put_bucket_lifecycle_configuration(Bucket=remote.bucket,
                                                  LifecycleConfiguration={"Rules": export.merged})
        export.applied = True
        export.read_back, _ = _existing_rules(client, remote)
    except Exception as exc:  # noqa: BLE001
        raise explain_s3_error(exc, remote, "Lifecycle export") from None
    export.mismatches = compare_rules(export.merged, export.read_back)
    export.verified = not export.mismatches
    return export


def compare_rules(sent: list[dict[str, Any]], read_back: list[dict[str, Any]]) -> list[str]:
    """Sentences naming each rule that was not read back as it was put (empty when they all match)."""
    got = {str(r.get("ID", "")): normalise_rule(r) for r in read_back}
    problems = []
    for rule in sent:
        rule_id = str(rule.get("ID", ""))
        if rule_id not in got:
            problems.append(f"Rule '{rule_id}' is missing from the configuration read back.")
        elif got[rule_id] != normalise_rule(rule):
            problems.append(f"Rule '{rule_id}' was read back as {got[rule_id]}, not {normalise_rule(rule)}.")
    extra = set(got) - {str(r.get("ID", "")) for r in sent}
    for rule_id in sorted(extra):
        problems.append(f"Rule '{rule_id}' appeared in the configuration read back but was not put.")
    return problems
