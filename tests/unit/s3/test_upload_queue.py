"""The persistent upload queue: enqueue, atomic claims between workers, back-off, stale claims."""

from __future__ import annotations

import datetime as dt
import threading

from mediaclean_gui.core.catalog import Catalog, parse_iso
from mediaclean_gui.core.s3 import queue as uq
from mediaclean_gui.core.s3.remote import add_remote


def _remote(catalog: Catalog) -> int:
    return add_remote(catalog, "r", "bucket-a").id


def test_backoff_doubles_and_is_capped():
    assert [uq.backoff_seconds(n) for n in (1, 2, 3, 4)] == [60.0, 120.0, 240.0, 480.0]
    assert uq.backoff_seconds(50) == 6 * 3600.0


def test_enqueue_keeps_a_verified_row_for_the_same_file_and_resets_a_changed_one(catalog):
    rid = _remote(catalog)
    first = uq.enqueue(catalog, rid, None, "/w/a.mp4", "k/a.mp4", 10, 111)
    assert uq.enqueue(catalog, rid, None, "/w/a.mp4", "k/a.mp4", 10, 111) == first
    uq.claim(catalog, first, "w1")
    uq.mark_verified(catalog, first, algorithm="CRC32", checksum="abc=", etag="e", version_id=None, proof="p")
    uq.enqueue(catalog, rid, None, "/w/a.mp4", "k/a.mp4", 10, 111)
    rec = uq.get_record(catalog, first)
    assert rec.status is uq.UploadStatus.VERIFIED and rec.checksum == "abc=" and rec.verified_at
    uq.enqueue(catalog, rid, None, "/w/a.mp4", "k/a.mp4", 12, 222)  # the file changed
    rec = uq.get_record(catalog, first)
    assert rec.status is uq.UploadStatus.QUEUED and rec.checksum is None and rec.verified_at is None
    assert (rec.size, rec.mtime_ns) == (12, 222)


def test_claim_is_atomic_between_two_workers(catalog_path):
    setup = Catalog(catalog_path)
    rid = _remote(setup)
    ids = [uq.enqueue(setup, rid, None, f"/w/{n}.mp4", f"k/{n}", 1, 1) for n in range(200)]
    setup.close()
    wins: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        cat = Catalog(catalog_path)
        barrier.wait()
        for upload_id in ids:
            if uq.claim(cat, upload_id, name):
                wins[name].append(upload_id)
        cat.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in wins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins["a"] + wins["b"]) == ids  # every artifact claimed exactly once
    assert not set(wins["a"]) & set(wins["b"])


def test_failure_records_error_and_backs_off(catalog):
    rid = _remote(catalog)
    upload_id = uq.enqueue(catalog, rid, None, "/w/a.mp4", "k", 1, 1)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    uq.claim(catalog, upload_id, "w")
    first = uq.mark_failed(catalog, upload_id, "store busy", now)
    assert parse_iso(first) == now + dt.timedelta(seconds=60)
    assert uq.due(catalog, rid, now) == []
    assert [r.id for r in uq.due(catalog, rid, now + dt.timedelta(seconds=61))] == [upload_id]
    uq.claim(catalog, upload_id, "w")
    second = uq.mark_failed(catalog, upload_id, "store busy again", now)
    assert parse_iso(second) == now + dt.timedelta(seconds=120)
    rec = uq.get_record(catalog, upload_id)
    assert rec.status is uq.UploadStatus.FAILED and rec.attempts == 2 and rec.last_error == "store busy again"


def test_release_does_not_count_an_attempt(catalog):
    rid = _remote(catalog)
    upload_id = uq.enqueue(catalog, rid, None, "/w/a.mp4", "k", 1, 1)
    uq.claim(catalog, upload_id, "w")
    uq.release(catalog, upload_id, "cancelled")
    rec = uq.get_record(catalog, upload_id)
    assert rec.status is uq.UploadStatus.QUEUED and rec.attempts == 0 and rec.last_error == "cancelled"


def test_stale_claims_of_dead_processes_go_back_to_the_queue(catalog):
    import os

    rid = _remote(catalog)
    dead = uq.enqueue(catalog, rid, None, "/w/dead.mp4", "k1", 1, 1)
    alive = uq.enqueue(catalog, rid, None, "/w/alive.mp4", "k2", 1, 1)
    uq.claim(catalog, dead, "999999999:1:1")
    uq.record_multipart(catalog, dead, "mpu-1")
    uq.claim(catalog, alive, f"{os.getppid()}:1:1")
    stale = uq.release_stale_claims(catalog)
    assert [r.id for r in stale] == [dead] and stale[0].multipart_upload_id == "mpu-1"
    assert uq.get_record(catalog, dead).status is uq.UploadStatus.QUEUED
    assert uq.get_record(catalog, alive).status is uq.UploadStatus.UPLOADING
    assert [r.id for r in uq.leftover_multipart(catalog, rid)] == [dead]
    counts = uq.queue_counts(catalog, rid)
    assert counts["queued"] == 1 and counts["uploading"] == 1 and counts["verified"] == 0


def test_a_verified_row_whose_file_is_gone_is_settled_as_deleted_locally(catalog, tmp_path):
    # a kill between the unlink and the commit of 'deleted_local' leaves such a row
    rid = _remote(catalog)
    present = tmp_path / "present.mp4"
    present.write_bytes(b"x")
    ids = {}
    for name in ("gone.mp4", "present.mp4"):
        ids[name] = uq.enqueue(catalog, rid, None, str(tmp_path / name), f"k/{name}", 1, 1)
        uq.claim(catalog, ids[name], "w1")
        uq.mark_verified(catalog, ids[name], algorithm="CRC32", checksum="abc=", etag="e", version_id=None, proof="p")
    queued = uq.enqueue(catalog, rid, None, str(tmp_path / "never-uploaded.mp4"), "k/n.mp4", 1, 1)
    assert uq.settle_verified_gone(catalog) == 1
    assert uq.get_record(catalog, ids["gone.mp4"]).status is uq.UploadStatus.DELETED_LOCAL
    assert uq.get_record(catalog, ids["present.mp4"]).status is uq.UploadStatus.VERIFIED
    assert uq.get_record(catalog, queued).status is uq.UploadStatus.QUEUED  # no proof: never settled as deleted


def test_enqueue_many_gives_the_rows_enqueue_gives_in_the_order_asked(catalog):
    rid = _remote(catalog)
    kept = uq.enqueue(catalog, rid, None, "/w/b.mp4", "k/b.mp4", 10, 111)
    uq.claim(catalog, kept, "w1")
    uq.mark_verified(catalog, kept, algorithm="CRC32", checksum="abc=", etag="e", version_id=None, proof="p")
    changed = uq.enqueue(catalog, rid, None, "/w/c.mp4", "k/c.mp4", 10, 111)
    uq.claim(catalog, changed, "w1")
    uq.mark_verified(catalog, changed, algorithm="CRC32", checksum="def=", etag="e", version_id=None, proof="p")
    files = [(None, "/w/z.mp4", "k/z.mp4", 1, 1), (None, "/w/b.mp4", "k/b.mp4", 10, 111),
             (None, "/w/a.mp4", "k/a.mp4", 2, 2), (None, "/w/c.mp4", "k/c.mp4", 12, 222)]
    ids = uq.enqueue_many(catalog, rid, files)
    assert ids[1] == kept and ids[3] == changed and len(set(ids)) == 4
    assert [uq.get_record(catalog, i).path for i in ids] == [f[1] for f in files]
    assert uq.get_record(catalog, kept).status is uq.UploadStatus.VERIFIED  # the same file keeps its proof
    rec = uq.get_record(catalog, changed)  # a changed file goes back to the queue without its old proof
    assert rec.status is uq.UploadStatus.QUEUED and rec.checksum is None and (rec.size, rec.mtime_ns) == (12, 222)
    other = add_remote(catalog, "r2", "bucket-b").id  # the same path on another remote is another row
    assert set(uq.enqueue_many(catalog, other, files)).isdisjoint(ids)


def test_claim_many_is_atomic_between_two_workers_and_returns_the_rows_as_claimed(catalog_path):
    setup = Catalog(catalog_path)
    rid = _remote(setup)
    ids = uq.enqueue_many(setup, rid, [(None, f"/w/{n}.mp4", f"k/{n}", 1, 1) for n in range(1200)])
    held = ids[7]
    uq.claim(setup, held, "someone-else")
    setup.close()
    wins: dict[str, dict[int, uq.UploadRecord]] = {"a": {}, "b": {}}
    barrier = threading.Barrier(2)

    def worker(name: str, order: list[int]) -> None:
        cat = Catalog(catalog_path)
        barrier.wait()
        for start in range(0, len(order), 64):
            with cat.transaction():
                wins[name].update(uq.claim_many(cat, order[start:start + 64], name))
        cat.close()

    threads = [threading.Thread(target=worker, args=("a", ids)), threading.Thread(target=worker, args=("b", ids[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted([*wins["a"], *wins["b"]]) == sorted(set(ids) - {held})  # each claimed once, the held one by none
    assert not set(wins["a"]) & set(wins["b"])
    for name, claimed in wins.items():
        assert all(r.status is uq.UploadStatus.UPLOADING and r.claimed_by == name and r.attempts == 1
                   for r in claimed.values())


def test_only_copies_recorded_together_carry_one_time_and_pass_over_unknown_rows(catalog):
    from mediaclean_gui.core.s3.protections import record_only_copies

    rid = add_remote(catalog, "r", "bucket-a", endpoint_url="http://127.0.0.1:9000").id
    ids = uq.enqueue_many(catalog, rid, [(None, f"/w/{n}.mp4", f"k/{n}.mp4", n + 1, 1) for n in range(3)])
    with catalog.transaction():
        uq.claim_many(catalog, ids, "w")
        uq.mark_verified_many(catalog, [(i, "CRC32", f"c{i}=", f"e{i}", None, "checksum") for i in ids])
        record_only_copies(catalog, [ids[2], 999_999, ids[0]], "2026-12-02T06:00:00Z")
        uq.mark_deleted_local_many(catalog, [ids[0], ids[2]], recorded=True)
    rows = catalog.conn.execute("SELECT key, size, checksum, etag, local_deleted_at FROM only_copies ORDER BY key")
    assert [tuple(r) for r in rows] == [("k/0.mp4", 1, f"c{ids[0]}=", f"e{ids[0]}", "2026-12-02T06:00:00Z"),
                                        ("k/2.mp4", 3, f"c{ids[2]}=", f"e{ids[2]}", "2026-12-02T06:00:00Z")]
    statuses = [uq.get_record(catalog, i).status for i in ids]
    assert statuses == [uq.UploadStatus.DELETED_LOCAL, uq.UploadStatus.VERIFIED, uq.UploadStatus.DELETED_LOCAL]
    uq.mark_deleted_local_many(catalog, [ids[1]])  # not recorded by the caller: recorded here
    assert catalog.conn.execute("SELECT count(*) FROM only_copies").fetchone()[0] == 3
