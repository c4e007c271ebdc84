"""What sweeps, lifecycle export and the usage picture share beneath them: the client, the paginated listing,
the bucket's versioning, and the seed 004 summary sentence (so ``sweep`` and ``sweep_run`` need not import
each other)."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .remote import Remote, S3Error, error_code, explain_s3_error, make_client, versioning_status
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
    """The objects under the remote's prefix, one ``list_objects_v2`` page at a time (sorted by key).

    With ``prefetch`` the next page is requested on a helper thread while the
    caller works on the current one (at most two pages wait: memory stays
    constant). botocore errors propagate to the caller; callers wrap them
    with :func:`explain_s3_error`.
    """
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=remote.bucket, Prefix=remote.prefix,
                               PaginationConfig={"PageSize": page_size or PAGE_SIZE})
    for page in (_prefetched(pages) if prefetch else pages):
        yield [ListedObject.from_listing(entry, remote.prefix) for entry in page.get("Contents", ())]


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
