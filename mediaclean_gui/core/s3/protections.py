"""What the catalog protects in a bucket: the user's marks, uploaded final outputs, and the only copies (F3, F4).

Sweeps ask once per listed page (:class:`PageProtections`), so memory stays flat and
nothing depends on the order the store lists keys in (invariant 15).

An **only copy** is an object mediaclean uploaded and whose local copy it then deleted
(``uploads.status = deleted_local``). It is remembered in ``only_copies`` by the store
(:func:`remote.store_id`), the bucket and the full object key — not by the remote —
so every sweep of every remote that reaches the same object keeps it, unless the swept
remote has an explicit ``upload_retention_days`` and the local copy was deleted longer
ago than that (SPEC F3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog, from_db_path, iso, parse_iso
from .remote import Remote, get_remote, list_remotes, store_id

CHUNK = 500  # keys per IN (...) query (SQLite allows far more; this keeps statements small)


# ---------------------------------------------------------------- recording only copies


def record_only_copy(catalog: Catalog, upload_id: int, when: str | None = None) -> None:
    """Remember the object of upload row ``upload_id`` as an only copy (its local file was just deleted).

    Called inside the transaction that marks the row ``deleted_local``; a later upload of the
    same key replaces the record (its newer bytes are the only copy now).
    """
    record_only_copies(catalog, [upload_id], when)


def record_only_copies(catalog: Catalog, upload_ids: Sequence[int], when: str | None = None) -> None:
    """:func:`record_only_copy` for many upload rows (one read and one write per :data:`CHUNK` rows), all with
    the time ``when`` (ISO-8601 UTC; default now). Rows that are not in the catalog are passed over."""
    when = when or iso()
    for start in range(0, len(upload_ids), CHUNK):
        chunk = list(upload_ids[start:start + CHUNK])
        rows = catalog.conn.execute(
            "SELECT u.key, u.path, u.size, u.checksum_algorithm, u.checksum, u.etag, u.version_id, u.project_id, "
            "ifnull(p.name, '') AS project_name, r.id AS remote_id, r.bucket, r.endpoint_url "
            "FROM uploads u JOIN remotes r ON r.id = u.remote_id LEFT JOIN projects p ON p.id = u.project_id "
            f"WHERE u.id IN ({','.join('?' * len(chunk))}) ORDER BY u.id", chunk).fetchall()
        catalog.conn.executemany(
            "INSERT INTO only_copies(store, bucket, key, remote_id, project_id, project_name, path, size, "
            "checksum_algorithm, checksum, etag, version_id, local_deleted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(store, bucket, key) DO UPDATE SET remote_id = excluded.remote_id, "
            "project_id = excluded.project_id, project_name = excluded.project_name, path = excluded.path, "
            "size = excluded.size, checksum_algorithm = excluded.checksum_algorithm, checksum = excluded.checksum, "
            "etag = excluded.etag, version_id = excluded.version_id, local_deleted_at = excluded.local_deleted_at",
            [(store_id(row["endpoint_url"]), row["bucket"], row["key"], row["remote_id"], row["project_id"],
              row["project_name"], row["path"], row["size"], row["checksum_algorithm"], row["checksum"], row["etag"],
              row["version_id"], when) for row in rows],
        )


def forget_only_copy(catalog: Catalog, upload_id: int, when: str) -> None:
    """Undo :func:`record_only_copy` of ``when`` for upload row ``upload_id``: its local file was not deleted
    after all (changed, or the deletion failed), so the object is not the only copy."""
    catalog.conn.execute(
        "DELETE FROM only_copies WHERE local_deleted_at = ? AND EXISTS (SELECT 1 FROM uploads u WHERE u.id = ? "
        "AND u.key = only_copies.key AND u.path = only_copies.path AND u.remote_id = only_copies.remote_id)",
        (when, upload_id))


@dataclass(frozen=True)
class OnlyCopy:
    """One object whose local copy mediaclean deleted after a verified upload. ``key`` is the full key."""

    key: str
    project_name: str
    path: str
    size: int
    local_deleted_at: dt.datetime

    def reason(self) -> str:
        """``only copy: uploaded from project P, local copy deleted on 2026-12-01``."""
        project = f"project {self.project_name}" if self.project_name else "a project no longer in the catalog"
        return f"only copy: uploaded from {project}, local copy deleted on {self.local_deleted_at:%Y-%m-%d}"


def _stores(catalog: Catalog, remote: Remote) -> list[str]:
    """Every spelling of the remote's store recorded in ``only_copies`` for its bucket (spellings written
    by older versions are normalised here, so the comparison is on :func:`store_id`)."""
    mine = remote.store
    rows = catalog.conn.execute("SELECT DISTINCT store FROM only_copies WHERE bucket = ?", (remote.bucket,))
    return [r[0] for r in rows if store_id(r[0]) == mine or r[0] == mine]


def only_copies_under(catalog: Catalog, remote: Remote) -> Iterable[OnlyCopy]:
    """Every only copy in the remote's bucket under its prefix, by key (for lifecycle rules)."""
    stores = _stores(catalog, remote)
    if not stores:
        return
    marks = ",".join("?" * len(stores))
    rows = catalog.conn.execute(
        f"SELECT key, project_name, path, size, local_deleted_at FROM only_copies WHERE bucket = ? "
        f"AND store IN ({marks}) AND substr(key, 1, ?) = ? ORDER BY key",
        (remote.bucket, *stores, len(remote.prefix), remote.prefix))
    for r in rows:
        yield OnlyCopy(r["key"], r["project_name"], from_db_path(r["path"]), int(r["size"]),
                       parse_iso(r["local_deleted_at"]))


def releases(remote: Remote, copy: OnlyCopy, as_of: dt.datetime) -> bool:
    """Whether ``remote``'s ``upload_retention_days`` lets this only copy go at ``as_of``."""
    days = remote.upload_retention_days
    return days is not None and copy.local_deleted_at + dt.timedelta(days=days) <= as_of


# ---------------------------------------------------------------- per-page look-ups


@dataclass(frozen=True)
class Protection:
    """Why one listed object is protected: ``detail`` is the sentence shown with it."""

    detail: str
    only_copy: bool = False


class PageProtections:
    """Look up the catalog's protections for one listed page at a time (order-free, flat memory).

    ``lookup(pairs)`` takes ``(full key, relative key)`` pairs and returns ``{full key: Protection}``
    for those protected: the user's marks (``object_protections``, by relative key), uploads of final
    outputs and thumbnails (by full key), and only copies (by store, bucket and full key) unless the
    remote's ``upload_retention_days`` has passed at ``as_of``.
    """

    def __init__(self, catalog: Catalog, remote: Remote, as_of: dt.datetime) -> None:
        self.catalog = catalog
        self.remote = remote
        self.as_of = as_of
        self.stores = _stores(catalog, remote)
        # remotes on the same store and bucket: uploads of final outputs through any of them count too
        self.remote_ids = [r.id for r in list_remotes(catalog)
                           if r.bucket == remote.bucket and r.store == remote.store] or [remote.id]
        self.released = 0  # only copies let go by upload_retention_days

    def lookup(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Protection]:
        found: dict[str, Protection] = {}
        conn = self.catalog.conn
        by_rel = {rel: key for key, rel in pairs}
        for chunk in _chunks(list(by_rel)):
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"SELECT key, note FROM object_protections WHERE remote_id = ? AND key IN ({marks})",
                                  (self.remote.id, *chunk)):
                found.setdefault(by_rel[r["key"]], Protection(f"protected in the catalog: {r['note']}"))
        keys = [key for key, _ in pairs]
        ids = ",".join("?" * len(self.remote_ids))
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(
                    f"SELECT u.key, a.role, u.path FROM uploads u JOIN artifacts a ON a.path = u.path "
                    f"AND a.role IN ('final', 'thumbnail') WHERE u.remote_id IN ({ids}) AND u.key IN ({marks})",
                    (*self.remote_ids, *chunk)):
                found.setdefault(r["key"], Protection(
                    f"protected in the catalog: uploaded {r['role']} output ({from_db_path(r['path'])})"))
            if not self.stores:
                continue
            stores = ",".join("?" * len(self.stores))
            for r in conn.execute(
                    f"SELECT key, project_name, path, size, local_deleted_at FROM only_copies WHERE bucket = ? "
                    f"AND store IN ({stores}) AND key IN ({marks})", (self.remote.bucket, *self.stores, *chunk)):
                copy = OnlyCopy(r["key"], r["project_name"], from_db_path(r["path"]), int(r["size"]),
                                parse_iso(r["local_deleted_at"]))
                if releases(self.remote, copy, self.as_of):
                    self.released += 1
                    continue
                found.setdefault(copy.key, Protection(copy.reason(), only_copy=True))
        return found


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


# ---------------------------------------------------------------- the user's marks


def _relative(remote: Remote, key: str) -> str:
    key = key.lstrip("/")
    return key[len(remote.prefix):] if remote.prefix and key.startswith(remote.prefix) else key


def protect_keys(catalog: Catalog, remote_name: str, keys: list[str], note: str = "marked by the user") -> int:
    """Mark objects (keys relative to the remote's prefix) protected: sweeps keep them. Returns how many are new."""
    remote = get_remote(catalog, remote_name)
    with catalog.writer("protect objects"), catalog.transaction() as conn:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO object_protections(remote_id, key, note, created_at) VALUES (?,?,?,?)",
            [(remote.id, _relative(remote, k), note, iso()) for k in keys],
        )
        return conn.total_changes - before


def unprotect_keys(catalog: Catalog, remote_name: str, keys: list[str]) -> int:
    """Remove protection marks; returns how many were removed."""
    remote = get_remote(catalog, remote_name)
    with catalog.writer("unprotect objects"), catalog.transaction() as conn:
        before = conn.total_changes
        conn.executemany("DELETE FROM object_protections WHERE remote_id = ? AND key = ?",
                         [(remote.id, _relative(remote, k)) for k in keys])
        return conn.total_changes - before


def protection_count(catalog: Catalog, remote: Remote) -> int:
    """How many objects under the remote the catalog marks protected (user marks and uploaded finals)."""
    row = catalog.conn.execute(
        "SELECT (SELECT count(*) FROM object_protections WHERE remote_id = ?) + (SELECT count(*) FROM uploads u "
        "JOIN artifacts a ON a.path = u.path AND a.role IN ('final', 'thumbnail') WHERE u.remote_id = ? "
        "AND substr(u.key, 1, ?) = ?)", (remote.id, remote.id, len(remote.prefix), remote.prefix)).fetchone()
    return int(row[0] or 0)
