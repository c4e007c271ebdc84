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
