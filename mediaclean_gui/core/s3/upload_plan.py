"""F3 planning: which outputs of a project go to which object keys, and what the store already holds there.

Nothing is uploaded or deleted here. The planner walks the project, maps each output
to its object key, and then lists the keys under the plan's key prefixes (a few
``list_objects_v2`` pages) to see what the store already holds (SPEC F3):

* nothing at the key: the item is uploaded; the executor makes sure, just before the
  ``PutObject``, that still nothing is there (``If-None-Match: *``, or a ``HeadObject``);
* the same size and checksum (read with ``head_object(ChecksumMode="ENABLED")`` and
  compared with the file's, or the ETag compared with the file's MD5 where the store
  keeps no checksum): that object is the proof, the item is verified without a re-upload
  (``fingerprint["existing"]["same"]``);
* other bytes on an unversioned (or suspended) bucket: both copies are kept, the file
  is kept back ("the store already holds other bytes at KEY, last modified DATE"),
  unless the plan was made with ``overwrite``;
* other bytes on a versioned bucket: uploaded; the store keeps the earlier object as an
  older version, so nothing is lost, and the plan's summary says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog, display_path, parse_iso, utcnow
from ..errors import ConfigError
from ..events import CancelToken, Progress
from ..plan import Action, KeptBack, Plan, PlanBuilder, PlanItem, Reason
from ..profiles import Classified, Profile, Role, get_profile
from ..projects import Project, get_project
from ..safety import fingerprint
from ..walk import walk
from . import queue as uq
from .checksum import DEFAULT_ALGORITHM, digest_fd
from .remote import Remote, error_code, explain_s3_error, get_remote, make_client, versioning_status

MB = 1_000_000  # SI, as every size mediaclean shows
MAX_LIST_PREFIXES = 20  # the planner lists at most this many key prefixes (parents are listed instead)


# ---------------------------------------------------------------- keys


def object_key(remote: Remote, project: Project, relpath: str, found: Classified) -> str:
    """The object key for a file: the rule's ``key`` template formatted with the placeholders
    its pattern captured, ``{project}`` (the project's external id), ``{path}`` (the path
    below the rule's fixed folders) and ``{name}`` (the file name); without a template the
    path relative to the workspace root. The remote's prefix is prepended.

    Raises :class:`ConfigError` when a template names a placeholder the pattern does not give.
    """
    rule = found.rule
    if rule.key is None:
        return remote.key_for(relpath)
    fixed = rule.static_prefix(project.key)
    below = relpath[len(fixed) + 1:] if fixed and relpath.startswith(fixed + "/") else relpath
    values = dict(found.fields)
    values.setdefault("project", project.key or "")
    values.update(path=below, name=relpath.rsplit("/", 1)[-1])
    try:
        key = rule.key.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"Profile {project.profile}: the key template '{rule.key}' names {exc}, which its pattern "
            f"'{rule.pattern}' does not capture."
        ) from None
    return remote.key_for(key)


def output_folder(project: Project, relpath: str, found: Classified) -> str:
    """The folder (relative) below which emptied folders may be removed — never itself.

    The rule's fixed folders, plus the first folder below them when the pattern
    continues with ``**`` (``backend/mv/outputs/**`` keeps ``outputs/audio``, seed 000).
    """
    rule = found.rule
    fixed = rule.static_prefix(project.key)
    rest = rule.bind(project.key)[len(fixed):].lstrip("/")
    if rest.startswith("**") and relpath.startswith(fixed + "/" if fixed else ""):
        below = relpath[len(fixed) + 1:] if fixed else relpath
        if "/" in below:
            return f"{fixed}/{below.split('/', 1)[0]}" if fixed else below.split("/", 1)[0]
    return fixed


def _rule_text(remote: Remote, key: str) -> str:
    return f"s3://{remote.bucket}/{key}"


def key_of(item: PlanItem) -> str:
    """The object key an upload plan item goes to (its ``rule`` is ``s3://bucket/key``)."""
    return item.rule.split("/", 3)[3] if item.rule.startswith("s3://") else item.rule


# ---------------------------------------------------------------- planner


def plan_upload(
    catalog: Catalog,
    project_id: int,
    remote_name: str,
    *,
    delete_after_upload: bool,
    overwrite: bool = False,
    respect_backoff: bool = False,
    client: Any = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Make and store the F3 plan (kind ``upload``) for one project and remote; returns the plan id.

    Uploads nothing. Items: every ``output`` file of the project's profile, and
    every file whose rule has a ``key`` template; action ``upload_then_delete``
    with ``delete_after_upload`` (``upload`` for protected roles, which are never
    deleted), else ``upload``. ``target`` is the local path, ``rule`` shows
    ``s3://bucket/key``, ``group`` the output folder. Kept back: symbolic links,
    mount points, unreadable entries, files modified within ``settle_seconds``
    (``still being written``), names that cannot be object keys, two files for
    one key, and — with ``respect_backoff`` (scheduled runs) — files whose last
    attempt failed and whose back-off has not passed. Then the store is asked what it
    already holds at the planned keys (see the module docstring): other bytes on an
    unversioned bucket keep the file back unless ``overwrite`` (the window's "overwrite"
    choice, the command line's ``--overwrite``); the same bytes make the item a proof
    without a re-upload. ``client`` replaces the boto3 client made from the remote.

    Raises :class:`NotFound` for an unknown project or remote; :class:`S3Error` (one
    sentence) when the store cannot be listed.
    """
    progress = progress or Progress()
    project = get_project(catalog, project_id)
    profile = get_profile(project.profile)
    remote = get_remote(catalog, remote_name)
    settle = float(catalog.pref("settle_seconds"))
    records = {r.path: r for r in uq.list_records(catalog, remote.id)}
    now = time.time()
    client = client or make_client(remote)
    versioning = _versioning(client, remote)
    params = {"remote_id": remote.id, "remote": remote.name, "bucket": remote.bucket, "prefix": remote.prefix,
              "project_id": project.id, "delete_after_upload": delete_after_upload, "settle_seconds": settle,
              "overwrite": overwrite, "versioning": versioning}
    builder = PlanBuilder(catalog, "upload", params)
    keys: dict[str, str] = {}
    candidates: list[tuple[PlanItem, str]] = []
    try:
        progress.update(phase="scanning", current=project.name)
        for prefix in profile.walk_prefixes(project.key):
            for entry in walk(project.root, prefix):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if entry.kind == "dir":
                    continue
                found = profile.classify(entry.rel, project.key)
                if found is None or not (found.role is Role.OUTPUT or found.rule.key is not None):
                    continue
                _plan_entry(builder, candidates, entry, found, project, profile, remote, settle, now, records, keys,
                            delete_after_upload, respect_backoff)
                progress.update(done=progress.done + 1)
        progress.update(phase="listing the store", current=f"s3://{remote.bucket}/{remote.prefix}")
        existing = existing_objects(client, remote, [key for _, key in candidates])
        check = StoreCheck(client, remote, versioning, overwrite, records)
        check.protected = _protected(catalog, remote, list(existing))
        for item, key in candidates:
            if cancel is not None:
                cancel.raise_if_cancelled()
            check.place(builder, item, key, existing.get(key))
    except BaseException as exc:
        builder.abandon()
        if _is_store_error(exc):
            raise explain_s3_error(exc, remote, "Upload preview") from None
        raise
    n, nbytes = builder.item_count, builder.total_bytes
    where = f"s3://{remote.bucket}/{remote.prefix}"
    after = "the local copies are deleted once each upload is verified" if delete_after_upload \
        else "the local copies are kept"
    summary = f"Upload {n} file{'' if n == 1 else 's'} ({nbytes / MB:.2f} MB) of '{project.name}' to {where}; {after}"
    summary += "".join(f"; {note}" for note in check.notes())
    if check.found:
        params["existing"] = check.found
        catalog.conn.execute("UPDATE plans SET params = ? WHERE id = ?", (json.dumps(params), builder.plan_id))
    return builder.finish("ready", summary)


def existing_at(plan: Plan, key: str) -> dict[str, Any]:
    """What the preview found at ``key`` (``{}``: nothing): size, etag, last_modified, and ``same`` (the same
    bytes: proved without an upload) or ``replace`` (other bytes the plan may replace)."""
    found: dict[str, Any] = plan.params.get("existing", {}).get(key) or {}
    return found


def _is_store_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (BotoCoreError, ClientError))


def _protected(catalog: Catalog, remote: Remote, keys: list[str]) -> dict[str, str]:
    """Why the catalog protects the objects at ``keys``, if it does: only copies of earlier uploads (any remote
    on this bucket), the user's marks, uploaded finals. ``{key: words}``."""
    from .protections import PageProtections

    rel = len(remote.prefix)
    marks = PageProtections(catalog, remote, utcnow()).lookup([(k, k[rel:]) for k in keys])
    return {k: (m.detail if m.only_copy else m.detail.replace("protected in the catalog: ", "protected in the "
                                                                                              "catalog as "))
            for k, m in marks.items()}


def _versioning(client: Any, remote: Remote) -> str:
    """The bucket's versioning, ``unknown`` where the credentials may not read it (treated as unversioned)."""
    try:
        return versioning_status(client, remote.bucket)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) in ("AccessDenied", "403", "NotImplemented", "501"):
            return "unknown"
        raise explain_s3_error(exc, remote, "Upload preview") from None


# ---------------------------------------------------------------- what the store already holds


@dataclass(frozen=True)
class Existing:
    """An object the listing found at a planned key: ``size`` bytes, ``etag`` without quotes, ``last_modified`` UTC."""

    key: str
    size: int
    etag: str
    last_modified: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "etag": self.etag, "last_modified": self.last_modified.isoformat()[:19] + "Z"}


def list_prefixes(keys: list[str], limit: int = MAX_LIST_PREFIXES) -> list[str]:
    """Folders to list so that every key is under one of them: the keys' own folders, replaced by their
    parents until at most ``limit`` remain (``""`` lists the whole bucket). Pure."""
    folders = {k.rsplit("/", 1)[0] + "/" if "/" in k else "" for k in keys}
    while len(folders) > limit:
        folders = {f.rstrip("/").rsplit("/", 1)[0] + "/" if "/" in f.rstrip("/") else "" for f in folders}
    # a folder inside another listed one is listed with it
    ordered = sorted(folders, key=len)
    kept: list[str] = []
    for folder in ordered:
        if not any(folder.startswith(k) for k in kept):
            kept.append(folder)
    return sorted(kept)


def existing_objects(client: Any, remote: Remote, keys: list[str]) -> dict[str, Existing]:
    """What the store holds at ``keys``: one paginated ``list_objects_v2`` per prefix of :func:`list_prefixes`;
    only entries for the planned keys are kept (memory grows with the plan, not the bucket). Any listing
    order is fine. botocore errors propagate."""
    wanted = set(keys)
    found: dict[str, Existing] = {}
    if not wanted:
        return found
    paginator = client.get_paginator("list_objects_v2")
    for prefix in list_prefixes(keys):
        for page in paginator.paginate(Bucket=remote.bucket, Prefix=prefix):
            for entry in page.get("Contents", ()):
                key = str(entry["Key"])
                if key in wanted:
                    stamp = entry["LastModified"]
                    if stamp.tzinfo is None:
                        stamp = stamp.replace(tzinfo=dt.timezone.utc)
                    found[key] = Existing(key, int(entry.get("Size", 0)), str(entry.get("ETag", "")).strip('"'),
                                          stamp.astimezone(dt.timezone.utc))
    return found


class StoreCheck:
    """Decide each candidate against what the store holds at its key (the module docstring's four cases)."""

    def __init__(self, client: Any, remote: Remote, versioning: str, overwrite: bool,
                 records: dict[str, uq.UploadRecord]) -> None:
        self.client = client
        self.remote = remote
        self.versioned = versioning == "Enabled"
        self.overwrite = overwrite
        self.records = records
        self.same = 0
        self.replaced = 0
        self.kept = 0
        self.own = 0
        self.protected: dict[str, str] = {}  # key -> why the catalog protects the object there
        #: what the store held at each planned key that exists: ``{key: {size, etag, last_modified, same|replace}}``
        #: (the plan's ``params["existing"]``; a local file's fingerprint stays exactly its stat)
        self.found: dict[str, dict[str, Any]] = {}

    def notes(self) -> list[str]:
        out = []
        if self.same:
            out.append(f"{self.same} already stored with the same bytes (proved without uploading again)")
        if self.own:
            out.append(f"{self.own} replace mediaclean's own earlier upload of a file that changed since")
        if self.replaced and self.versioned:
            out.append(f"{self.replaced} replace other bytes at their key; the bucket is versioned, so the "
                       f"earlier objects stay as older versions (nothing is lost)")
        elif self.replaced:
            out.append(f"{self.replaced} overwrite other bytes at their key, as chosen")
        if self.kept:
            out.append(f"{self.kept} kept back because the store already holds other bytes at their key")
        return out

    def place(self, builder: PlanBuilder, item: PlanItem, key: str, found: Existing | None) -> None:
        if found is None:
            builder.add(item)
            return
        self.found[key] = found.as_json()
        same = self._same_bytes(item, key, found) if found.size == item.size else False
        if same:
            self.found[key]["same"] = True
            self.same += 1
            builder.add(item)
            return
        when = found.last_modified.strftime("%Y-%m-%d %H:%M UTC")
        guarded = self.protected.get(key)
        if guarded is not None and not self.versioned:
            # an only copy (or an object the catalog protects) is never replaced, not even when asked to
            self.kept += 1
            builder.keep(KeptBack(
                target=item.target, reason=Reason.PROTECTED, size=item.size, role=item.role,
                project_id=item.project_id, group=item.group,
                detail=f"the store already holds other bytes at {key}, last modified {when}, and that object is "
                       f"{guarded}; it is never overwritten, so both copies are kept"))
            return
        if self._superseded(item, key, found):
            # mediaclean's own earlier upload of this very file, whose local copy is still here (it changed
            # since): the file's newer bytes replace it; no one else's bytes are at stake
            self.found[key]["replace"] = True
            self.found[key]["own"] = True
            self.own += 1
            builder.add(item)
            return
        if self.versioned or self.overwrite:
            self.found[key]["replace"] = True
            self.replaced += 1
            builder.add(item)
            return
        self.kept += 1
        what = "other bytes" if same is False else \
            "an object of the same size whose bytes cannot be compared with this file (it has no comparable checksum)"
        builder.keep(KeptBack(
            target=item.target, reason=Reason.PROTECTED, size=item.size, role=item.role, project_id=item.project_id,
            group=item.group,
            detail=f"the store already holds {what} at {key}, last modified {when}; both copies are kept "
                   f"(choose to overwrite to replace it)"))

    def _superseded(self, item: PlanItem, key: str, found: Existing) -> bool:
        """The object is mediaclean's upload of this same local file (its queue row names this key and this
        ETag) and that file was never deleted: it is not an only copy, just an older version of the file."""
        record = self.records.get(item.target)
        return (record is not None and record.key == key and bool(record.etag) and record.etag == found.etag
                and record.status is not uq.UploadStatus.DELETED_LOCAL)

    def _same_bytes(self, item: PlanItem, key: str, found: Existing) -> bool | None:
        """Whether the object holds this file's bytes: its full-object checksum compared with the file's
        (the queue's recorded checksum when the file is unchanged since, else hashed now), or — where the
        store keeps no checksum — a single-part ETag compared with the file's MD5. ``None`` when nothing
        comparable is there (a composite checksum or a multipart ETag of unknown part size)."""
        head = self.client.head_object(Bucket=self.remote.bucket, Key=key, ChecksumMode="ENABLED")
        if int(head.get("ContentLength", -1)) != item.size or str(head.get("ETag", "")).strip('"') != found.etag:
            return False  # changed since it was listed: not provably the same
        theirs = head.get(f"Checksum{DEFAULT_ALGORITHM}")
        record = self.records.get(item.target)
        mtime = int(item.fingerprint.get("mtime_ns", 0))
        if theirs and "-" not in str(theirs) and head.get("ChecksumType") in (None, "FULL_OBJECT"):
            if record is not None and record.checksum and record.checksum_algorithm == DEFAULT_ALGORITHM \
                    and (record.size, record.mtime_ns, record.key) == (item.size, mtime, key):
                return bool(record.checksum == theirs)
            return bool(_hash(item.target, "crc") == theirs)
        if not theirs and found.etag and "-" not in found.etag and len(found.etag) == 32:
            return bool(_hash(item.target, "md5") == found.etag)
        return None


def _hash(path: str, kind: str) -> str | None:
    """The file's CRC32 (base64, as S3 writes it) or MD5 (hex); ``None`` when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if kind == "crc":
            return digest_fd(fd, DEFAULT_ALGORITHM).value
        md5 = hashlib.md5(usedforsecurity=False)
        offset = 0
        while True:
            data = os.pread(fd, 8 * 1024 * 1024, offset)
            if not data:
                return md5.hexdigest()
            md5.update(data)
            offset += len(data)
    except OSError:
        return None
    finally:
        os.close(fd)


def _plan_entry(builder: PlanBuilder, candidates: list[tuple[PlanItem, str]], entry: Any, found: Classified,
                project: Project, profile: Profile, remote: Remote, settle: float, now: float,
                records: dict[str, uq.UploadRecord], keys: dict[str, str], delete_after_upload: bool,
                respect_backoff: bool) -> None:
    size = entry.st.st_size if entry.st is not None and entry.kind == "file" else 0
    base = dict(target=entry.path, size=size, role=found.role.value, project_id=project.id,
                group=output_folder(project, entry.rel, found))
    if entry.kind == "link":
        builder.keep(KeptBack(reason=Reason.SYMLINK, detail="links are never followed or uploaded", **base))
        return
    if entry.kind == "mount":
        builder.keep(KeptBack(reason=Reason.MOUNT_POINT, detail="another file system is not entered", **base))
        return
    if entry.kind != "file":
        builder.keep(KeptBack(reason=Reason.UNREADABLE, detail=entry.error or f"not a regular file ({entry.kind})",
                              **base))
        return
    try:
        key = object_key(remote, project, entry.rel, found)
        key.encode("utf-8")
    except UnicodeEncodeError:
        builder.keep(KeptBack(reason=Reason.UNREADABLE, detail="the file name is not valid UTF-8, so it cannot be "
                                                               "an object key", **base))
        return
    age = now - entry.st.st_mtime
    if age < settle:
        builder.keep(KeptBack(reason=Reason.IN_USE, detail=f"modified {max(age, 0):.0f} s ago; uploaded once "
                                                           f"unchanged for {settle:.0f} s (settle time)", **base))
        return
    if key in keys:
        builder.keep(KeptBack(reason=Reason.NOT_VERIFIED, detail=f"{display_path(keys[key])} goes to the same object "
                                                                 f"key {key}", **base))
        return
    record = records.get(entry.path)
    if respect_backoff and record is not None and record.status in (uq.UploadStatus.FAILED,
                                                                    uq.UploadStatus.UNVERIFIED) \
            and record.next_attempt_at and parse_iso(record.next_attempt_at) > utcnow():
        builder.keep(KeptBack(reason=Reason.NOT_VERIFIED,
                              detail=f"{record.status.value} after {record.attempts} attempt(s) ({record.last_error}); "
                                     f"next try after {record.next_attempt_at}", **base))
        return
    keys[key] = entry.path
    action = Action.UPLOAD_THEN_DELETE if delete_after_upload and not found.role.protected else Action.UPLOAD
    candidates.append((PlanItem(action=action, rule=_rule_text(remote, key), fingerprint=fingerprint(entry.st),
                                root=project.root, **base), key))


def upload_total_line(plan: Plan) -> str:
    """``Will upload 12 files · 40.0 MB · delete 12 local copies once verified · 3 kept``."""
    import humanize

    chosen = plan.selected_items()
    files = len(chosen)
    deleting = sum(1 for i in chosen if i.action is Action.UPLOAD_THEN_DELETE)
    size = humanize.naturalsize(sum(i.size for i in chosen))
    then = f"delete {deleting} local cop{'y' if deleting == 1 else 'ies'} once verified" if deleting \
        else "keep the local copies"
    return f"Will upload {files} file{'' if files == 1 else 's'} · {size} · {then} · {plan.kept_count} kept"


__all__ = ["Existing", "existing_at", "existing_objects", "key_of", "list_prefixes", "object_key", "output_folder",
           "plan_upload",
           "upload_total_line"]
