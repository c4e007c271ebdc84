"""What sweeps, lifecycle export and the usage picture share beneath them: the client, the paginated listing,
the bucket's versioning, and the seed 004 summary sentence (so ``sweep`` and ``sweep_run`` need not import
each other)."""

from __future__ import annotations

import bisect
import datetime as dt
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .remote import Remote, S3Error, error_code, explain_s3_error, make_client, share_loader, versioning_status
from .retention import ListedObject

MB = 1_000_000  # SI: 1 MB = 1,000,000 bytes, as every size mediaclean shows
PAGE_SIZE = 1000  # keys per list_objects_v2 page (the most S3 returns)


# ---------------------------------------------------------------- the client


def _parse_timestamp(value: Any) -> Any:
    """botocore's timestamp parser with a fast path for ISO-8601 text (every LastModified of a listing:
    botocore's default goes through dateutil and costs about half of a listing's CPU time)."""
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        from botocore.utils import parse_timestamp

        return parse_timestamp(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


def _listing_parsers() -> Any:
    """A botocore response parser factory whose ``rest-xml`` parser reads the entries of a listing page
    (shape ``Object``: one per key of ``list_objects_v2``) in one pass over their elements instead of
    botocore's generic walk over the shape (the other half of a listing's CPU time). An entry with any
    element the fast path does not know (``Owner``, ``ChecksumAlgorithm``, ``RestoreStatus``, a repeated
    or nested element) goes to botocore's own parser, so the parsed page is the same either way."""
    from botocore.parsers import ResponseParserFactory, RestXMLParser

    text = {"Key", "ETag", "StorageClass", "ChecksumType"}

    class ListingParser(RestXMLParser):  # type: ignore[misc]  # botocore has no type hints
        def _handle_structure(self, shape: Any, node: Any) -> Any:
            if shape.name != "Object" or isinstance(node, list):
                return super()._handle_structure(shape, node)
            parsed: dict[str, Any] = {}
            for child in node:
                tag = child.tag
                tag = tag[tag.rfind("}") + 1:]
                if tag in parsed or len(child):
                    return super()._handle_structure(shape, node)
                if tag in text:
                    parsed[tag] = child.text or ""
                elif tag == "Size":
                    parsed[tag] = int(child.text or "")
                elif tag == "LastModified":
                    parsed[tag] = self._timestamp_parser(child.text or "")
                else:
                    return super()._handle_structure(shape, node)
            return parsed

    class ListingParsers(ResponseParserFactory):  # type: ignore[misc]
        def create_parser(self, protocol_name: str) -> Any:
            if protocol_name == "rest-xml":
                return ListingParser(**self._defaults)
            return super().create_parser(protocol_name)

    return ListingParsers()


def sweep_client(remote: Remote, **options: Any) -> Any:
    """:func:`remote.make_client` (standard retries with back-off, path style, signature v4) on a session
    whose response parser reads timestamps with :func:`_parse_timestamp` and listing entries with
    :func:`_listing_parsers`' fast path. ``options`` go to :func:`remote.make_client` (timeouts, retries,
    pool size)."""
    import boto3
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    core = botocore.session.get_session()
    share_loader(core)
    factory = _listing_parsers()
    factory.set_parser_defaults(timestamp_parser=_parse_timestamp)
    core.register_component("response_parser_factory", factory)
    try:
        session = boto3.session.Session(botocore_session=core, profile_name=remote.aws_profile)
    except ProfileNotFound:
        return make_client(remote, **options)  # raises the one-sentence error for a missing profile
    return make_client(remote, session=session, **options)


# ---------------------------------------------------------------- listing


def list_objects(client: Any, remote: Remote, page_size: int = 0,
                 prefetch: bool = True) -> Iterator[list[ListedObject]]:
    """The objects under the remote's prefix, one page (at most ``page_size``, default 1,000) at a time, in the
    order a plain ``list_objects_v2`` listing of the prefix gives them (the store's order: byte order on AWS,
    folders first on SeaweedFS).

    With ``prefetch`` the listing runs ahead of the caller on helper threads, in parallel over the prefix's
    top-level folders when that keeps the order and costs few requests (:func:`_split`: one delimiter page
    more, and at most one part-filled page per folder); at most :data:`AHEAD_PAGES` pages wait beyond the one
    being read, so memory stays bounded. Without it, one plain listing on the caller's thread. botocore errors
    propagate to the caller; callers wrap them with :func:`explain_s3_error`.
    """
    size = page_size or PAGE_SIZE
    paginator = client.get_paginator("list_objects_v2")
    parts = _split(paginator, remote) if prefetch else None
    if parts is None:
        pages = paginator.paginate(Bucket=remote.bucket, Prefix=remote.prefix, PaginationConfig={"PageSize": size})
        parts = [_Part(pages=_prefetched(pages) if prefetch else pages)]
    yield from _merged(paginator, remote, parts, size)


LIST_THREADS = 4  #: folders listed at once by :func:`list_objects`
MAX_FOLDERS = 8  #: more top-level folders than this: one plain listing (each folder may cost a part-filled page)
AHEAD_PAGES = 8  #: pages listed ahead of the reader at most, over all folders (about 1 MB each, parsed)
READ_AHEAD = 2  #: pages listed ahead in the folder being read


class _Part:
    """One piece of a listing in the merged order: entries already listed (objects at the top of the prefix),
    a folder (``prefix``) still to list, or the pages of a plain listing."""

    def __init__(self, entries: list[dict[str, Any]] | None = None, prefix: str | None = None,
                 pages: Iterable[dict[str, Any]] | None = None) -> None:
        self.entries = entries or []
        self.prefix = prefix
        self.pages = pages


def _split(paginator: Any, remote: Remote) -> list[_Part] | None:
    """The prefix's top level from one delimiter page, as parts in the order of a plain listing (that page alone
    when it holds every object); ``None`` when a plain listing is as good (one folder, more than
    :data:`MAX_FOLDERS`, more than one page of top level) or the order could differ between stores.

    A plain listing gives each folder's keys together; where the folder ``d/`` sits among the other names of the
    top level is the same in byte order and in SeaweedFS's folders-first order unless another name starts with
    ``d`` followed by a character that sorts before ``/`` (``d.json``, ``d-v2/``, ``d`` itself): then ``None``.
    """
    top = paginator.paginate(Bucket=remote.bucket, Prefix=remote.prefix, Delimiter="/",
                             PaginationConfig={"PageSize": PAGE_SIZE})
    first: dict[str, Any] = next(iter(top), {})
    folders = [str(p["Prefix"]) for p in first.get("CommonPrefixes", ()) or ()]
    entries = list(first.get("Contents", ()) or ())
    if not folders and not first.get("IsTruncated"):
        return [_Part(entries=entries)]  # everything is at the top: that page was the whole listing
    if len(folders) < 2 or len(folders) > MAX_FOLDERS or first.get("IsTruncated"):
        return None
    keys = {str(e["Key"]) for e in entries}
    names = sorted(keys | {f[:-1] for f in folders})
    for folder in folders:
        stem = folder[:-1]
        if stem in keys:
            return None  # an object named like the folder
        at = bisect.bisect_right(names, stem)
        while at < len(names) and names[at].startswith(stem):
            if names[at][len(stem)] < "/":
                return None
            at += 1
    # an object at the top has no "/" after the prefix, so no key equals a folder's prefix
    order = sorted([(str(e["Key"]), e) for e in entries] + [(f, None) for f in folders], key=lambda t: t[0])
    parts: list[_Part] = []
    for name, entry in order:
        if entry is None:
            parts.append(_Part(prefix=name))
        elif parts and parts[-1].prefix is None:
            parts[-1].entries.append(entry)
        else:
            parts.append(_Part(entries=[entry]))
    return parts


def _merged(paginator: Any, remote: Remote, parts: list[_Part], size: int) -> Iterator[list[ListedObject]]:
    """The parts' objects in order, pages of at most ``size``; the folders listed on :data:`LIST_THREADS`
    daemon threads (the folders first in the order first), their exceptions re-raised here when their part is
    reached. Closing the generator stops the threads after their current request."""
    prefix = remote.prefix
    folders = [p for p in parts if p.prefix is not None]
    lister = _FolderLister(paginator, remote, [str(p.prefix) for p in folders], size) if folders else None
    try:
        for part in parts:
            for start in range(0, len(part.entries), size):
                yield [ListedObject.from_listing(e, prefix) for e in part.entries[start:start + size]]
            if part.pages is not None:
                for page in part.pages:
                    yield [ListedObject.from_listing(e, prefix) for e in page.get("Contents", ())]
            if part.prefix is not None:
                assert lister is not None
                for page in lister.pages(folders.index(part)):
                    yield [ListedObject.from_listing(e, prefix) for e in page.get("Contents", ())]
    finally:
        if lister is not None:
            lister.stop()
        for part in parts:
            close = getattr(part.pages, "close", None)
            if close is not None:
                close()  # a plain listing's prefetch thread stops now, not when the generator is collected


class _FolderLister:
    """Lists folders on daemon threads, each by one paginated listing, ahead of the reader: the folder being
    read up to :data:`READ_AHEAD` unread pages, the others while fewer than :data:`AHEAD_PAGES` pages wait in
    all (so the reader never waits for a budget that only it could free)."""

    def __init__(self, paginator: Any, remote: Remote, folders: list[str], size: int) -> None:
        self.paginator, self.remote, self.folders, self.size = paginator, remote, folders, size
        self.slots: list[queue.Queue[tuple[str, Any]]] = [queue.Queue() for _ in folders]
        self.unread = [0] * len(folders)  # pages waiting, per folder
        self.cond = threading.Condition()
        self.reading = 0  # the folder the reader is on
        self.next = 0  # the next folder a thread takes
        self.stopped = False
        for _ in range(min(LIST_THREADS, len(folders))):
            threading.Thread(target=self._work, name="mediaclean-list", daemon=True).start()

    def _may_put(self, index: int) -> bool:
        if index == self.reading:
            return self.unread[index] < READ_AHEAD
        return sum(self.unread) < AHEAD_PAGES

    def _work(self) -> None:
        while True:
            with self.cond:
                if self.stopped or self.next >= len(self.folders):
                    return
                index = self.next
                self.next += 1
            try:
                for page in self.paginator.paginate(Bucket=self.remote.bucket, Prefix=self.folders[index],
                                                    PaginationConfig={"PageSize": self.size}):
                    with self.cond:
                        while not self.stopped and not self._may_put(index):
                            self.cond.wait(0.1)
                        if self.stopped:
                            return
                        self.unread[index] += 1
                    self.slots[index].put(("page", page))
                self.slots[index].put(("end", None))
            except BaseException as exc:  # noqa: BLE001 — handed to the reading thread
                self.slots[index].put(("error", exc))

    def pages(self, index: int) -> Iterator[dict[str, Any]]:
        """Folder ``index``'s pages in order (the reader takes the folders in order)."""
        with self.cond:
            self.reading = index
            self.cond.notify_all()
        while True:
            kind, value = self.slots[index].get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            with self.cond:
                self.unread[index] -= 1
                self.cond.notify_all()
            yield value

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def _prefetched(pages: Iterable[dict[str, Any]], depth: int = 2) -> Iterator[dict[str, Any]]:
    """Run the page iterator on a daemon thread, ``depth`` pages ahead; its exceptions re-raised here.
    Closing the generator (a cancel, an error in the caller) stops the thread after its current request."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        slots.put(("page", page), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 — handed to the consuming thread
            slots.put(("error", exc))

    worker = threading.Thread(target=run, name="mediaclean-list", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def is_store_error(exc: BaseException) -> bool:
    """True for the failures of the store or the network (as opposed to a bug)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (BotoCoreError, ClientError, S3Error, OSError))


def read_versioning(client: Any, remote: Remote, action: str) -> str:
    """``Enabled``, ``Suspended``, ``Unversioned``, or ``unknown`` when the credentials may not read it.

    Raises :class:`S3Error` for wrong credentials, a missing bucket or an unreachable store.
    """
    try:
        return versioning_status(client, remote.bucket)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) in ("AccessDenied", "403", "NotImplemented"):
            return "unknown"
        raise explain_s3_error(exc, remote, action) from None


def sweep_message(count: int, nbytes: int, kept: int, kept_clips: int, *, dry_run: bool,
             markers: bool = False) -> str:
    """Seed 004: ``Deleted 150 files (1234.56 MB), retained 25 recent clips`` (``Would delete`` for a dry run)."""
    verb = "Would delete" if dry_run else "Deleted"
    size = f"{nbytes / MB:.2f} MB"
    if markers:
        size = f"{size} hidden behind delete markers, still stored as noncurrent versions"
    if kept == kept_clips:
        retained = f"retained {kept} recent clips"
    else:
        retained = f"retained {kept} objects ({kept_clips} recent clips)"
    return f"{verb} {count} files ({size}), {retained}"


def versioning_notes(versioning: str, remote_name: str) -> list[str]:
    """What to tell the user about a versioned bucket (SPEC F4)."""
    if versioning in ("Enabled", "Suspended"):
        return [
            f"The bucket is versioned ({versioning}): a delete only adds a delete marker and the data stays "
            f"stored as noncurrent versions. To expire them, apply the lifecycle rules: "
            f"'mediaclean lifecycle --remote {remote_name} --apply' (adds a NoncurrentVersionExpiration rule)."
        ]
    return []
