"""Sweep runs when the world moves or fails, against the real SeaweedFS: objects overwritten or deleted since the
preview, throttling and per-key errors in a 200 response, wrong credentials, a missing bucket, the max-delete guard,
versioned buckets, Cancel, the journal, and a crash in the middle of a run.

Fault cases wrap the real client with botocore event hooks; the store itself is always real."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sweep_data import fast_client, iso, listing, next_second, put_many

from mediaclean_gui.core.errors import SafetyRefusal
from mediaclean_gui.core.events import CancelToken, Progress
from mediaclean_gui.core.history import list_runs, run_items
from mediaclean_gui.core.s3.remote import add_remote, make_client
from mediaclean_gui.core.s3.sweep import execute_sweep_plan, plan_sweep, reconcile_interrupted_sweeps

pytestmark = pytest.mark.s3
DAY = dt.timedelta(days=1)


@pytest.fixture
def old_clips(s3_env, bucket, catalog):
    """20 clips written before a boundary second, a remote for them, and the instant they are 6 days old."""
    client = fast_client(s3_env)
    put_many(client, bucket, [(f"clips/c{i:02d}.mp4", f"clip {i}".encode()) for i in range(20)])
    boundary = next_second()
    add_remote(catalog, "r", bucket, endpoint_url=s3_env.endpoint_url, region=s3_env.region)
    return client, boundary + 5 * DAY


def _is_probe(params_or_body) -> bool:
    text = params_or_body if isinstance(params_or_body, (bytes, str)) else repr(params_or_body)
    return (b"mediaclean-probe" if isinstance(text, bytes) else "mediaclean-probe") in text


def _moto(client) -> bool:
    headers = client.list_buckets()["ResponseMetadata"]["HTTPHeaders"]
    return "werkzeug" in headers.get("server", "").lower()


def _strip_etags(params, **_):
    """Make the store look like one that ignores ETag conditions on DeleteObjects."""
    for entry in params.get("Delete", {}).get("Objects", []):
        entry.pop("ETag", None)


@pytest.mark.parametrize("store", ["honours ETag conditions", "ignores ETag conditions"])
def test_overwritten_and_vanished_objects_between_preview_and_run(old_clips, catalog, bucket, store, monkeypatch):
    client, as_of = old_clips
    if store == "honours ETag conditions" and catalog_remote(catalog).endpoint_url and _moto(client):
        pytest.skip("moto: DeleteObjects ignores per-key ETag conditions (the other parametrisation covers it)")
    plan_id = plan_sweep(catalog, "r", as_of=as_of)
    # after the preview: two clips are overwritten (one with the same size), one is deleted by someone else
    client.put_object(Bucket=bucket, Key="clips/c03.mp4", Body=b"re-rendered clip, keep me")
    client.put_object(Bucket=bucket, Key="clips/c04.mp4", Body=b"clip X")  # same size as 'clip 4'
    client.delete_object(Bucket=bucket, Key="clips/c07.mp4")
    run_client = make_client(catalog_remote(catalog))
    if store == "ignores ETag conditions":
        run_client.meta.events.register("before-parameter-build.s3.DeleteObjects", _strip_etags)

    result = execute_sweep_plan(catalog, plan_id, client=run_client)

    assert result.details["conditional_deletes"] is (store == "honours ETag conditions")
    assert sorted(listing(client, bucket)) == ["clips/c03.mp4", "clips/c04.mp4"]
    assert result.deleted_count == 17 and result.already_gone == 1 and result.skipped_count == 2
    assert result.status == "complete" and result.failed_count == 0
    outcomes = {r["target"]: (r["outcome"], r["detail"]) for r in run_items(catalog, result.run_id)}
    assert outcomes["clips/c07.mp4"] == ("already_gone", "already gone: deleted by someone else since the preview")
    for key in ("clips/c03.mp4", "clips/c04.mp4"):
        assert outcomes[key][0] == "skipped" and outcomes[key][1].startswith("changed since preview")
    assert result.freed_bytes == sum(len(f"clip {i}".encode()) for i in range(20) if i not in (3, 4, 7))
    assert result.as_json()["message"] == (
        f"Deleted 17 files ({result.freed_bytes / 1_000_000:.2f} MB), retained 2 objects (0 recent clips); "
        f"1 already gone")
    if store == "ignores ETag conditions":
        assert any("looked up again" in n for n in result.notes)


def catalog_remote(catalog):
    from mediaclean_gui.core.s3.remote import get_remote

    return get_remote(catalog, "r")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_):
        yield self.body


def test_slowdown_is_retried_and_per_key_errors_are_recorded(old_clips, catalog, bucket, cli, monkeypatch):
    """A 503 SlowDown is retried by boto3's standard mode; a 200 response carrying per-key errors is read:
    InternalError is tried again, AccessDenied fails that key only (exit 1, the error in ``errors``)."""
    from botocore.awsrequest import AWSResponse

    client, as_of = old_clips
    run_client = make_client(catalog_remote(catalog))
    seen = {"sends": 0, "slowdowns": 0, "injected": False}
    held: list[dict] = []

    def throttle(request, **_):
        if _is_probe(request.body):
            return None
        seen["sends"] += 1
        if seen["slowdowns"] == 0:
            seen["slowdowns"] += 1
            body = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
                    b"<Message>Please reduce your request rate.</Message></Error>")
            return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, _Raw(body))
        return None

    def hold_back(params, **_):
        objects = params["Delete"]["Objects"]
        if _is_probe(objects) or seen["injected"]:
            return
        seen["injected"] = True
        held.extend(o for o in objects if o["Key"] in ("clips/c05.mp4", "clips/c06.mp4"))
        params["Delete"]["Objects"] = [o for o in objects if o not in held]

    def add_errors(parsed, **_):
        if held:
            parsed.setdefault("Errors", []).extend([
                {"Key": "clips/c05.mp4", "Code": "InternalError", "Message": "We encountered an internal error."},
                {"Key": "clips/c06.mp4", "Code": "AccessDenied", "Message": "Access Denied"},
            ])
            held.clear()

    run_client.meta.events.register("before-send.s3.DeleteObjects", throttle)
    run_client.meta.events.register("before-parameter-build.s3.DeleteObjects", hold_back)
    run_client.meta.events.register("after-call.s3.DeleteObjects", add_errors)
    monkeypatch.setattr("mediaclean_gui.core.s3.sweep_run.sweep_client", lambda remote, **_: run_client)

    code, out = cli("sweep", "--remote", "r", "--as-of", iso(as_of), "--yes")

    assert code == 1, out
    assert seen["slowdowns"] == 1 and seen["sends"] >= 3  # the throttled try, its retry, the per-key retry
    assert sorted(listing(client, bucket)) == ["clips/c06.mp4"]
    assert out["deleted_count"] == 19 and out["success"] is False and out["status"] == "failed"
    assert out["errors"] == [{"key": "clips/c06.mp4", "error": "AccessDenied: Access Denied"}]
    assert out["message"].endswith("; 1 failed")
    run = list_runs(catalog, 1)[0]
    assert run["status"] == "failed" and run["failed_count"] == 1


@pytest.mark.seaweedfs_only("moto accepts any credentials")
def test_wrong_credentials_and_missing_bucket_are_one_sentence(s3_env, bucket, cli, monkeypatch):
    cli("remote", "add", "r", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)
    cli("remote", "add", "gone", "--bucket", "no-such-bucket-here", "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("sweep", "--remote", "gone")
    assert code == 2
    assert out["error"].startswith(
        f"Sweep failed: the bucket 'no-such-bucket-here' at {s3_env.endpoint_url} does not exist")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    code, out = cli("sweep", "--remote", "r")
    assert code == 2
    assert out["error"] == (f"Sweep failed: the store rejected the credentials for bucket '{bucket}' "
                            f"(check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the remote's profile).")
    code, out = cli("lifecycle", "--remote", "r")
    assert code == 2 and out["error"].startswith("Lifecycle export failed: the store rejected the credentials")


@pytest.mark.seaweedfs_only("moto accepts any credentials")
def test_credentials_revoked_between_preview_and_run(old_clips, catalog, bucket, cli, monkeypatch):
    client, as_of = old_clips
    code, out = cli("sweep", "--remote", "r", "--as-of", iso(as_of))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    code, ran = cli("sweep", "--plan", out["plan_id"], "--yes")
    assert code == 2 and ran["error"].startswith("Sweep failed: the store rejected the credentials")
    assert len(listing(client, bucket)) == 20
    assert list_runs(catalog) == []  # refused before the journal: no run, the plan can still run later
    monkeypatch.undo()


def test_max_delete_guard_refuses_until_confirmed(old_clips, cli, bucket, catalog):
    client, as_of = old_clips
    code, out = cli("sweep", "--remote", "r", "--as-of", iso(as_of), "--yes", "--max-delete", "5")
    assert code == 3
    assert out["error"] == ("Refused: the plan deletes 20 objects, more than the limit of 5. Nothing was deleted. "
                            "Review the plan, then confirm it a second time or raise the limit. To confirm it a second "
                            "time, run the same command with --confirm-large; to raise the limit, give --max-delete N "
                            "or set mediaclean prefs max_delete_count N (0 = no limit).")
    assert out["plan_id"] and out["deleted_count"] == 20 and out["dry_run"] is True
    assert len(listing(client, bucket)) == 20 and list_runs(catalog) == []
    # the share of the objects scanned (preference max_delete_share)
    cli("prefs", "max_delete_share", "0.5")
    code, share = cli("sweep", "--plan", out["plan_id"], "--yes")
    assert code == 3 and "100% of the 20 objects scanned, more than the limit of 50%" in share["error"]
    code, ran = cli("sweep", "--plan", out["plan_id"], "--yes", "--max-delete", "5", "--confirm-large")
    assert code == 0 and ran["deleted_count"] == 20
    assert listing(client, bucket) == {}


def test_versioned_bucket_is_reported_and_frees_nothing_at_once(s3_env, bucket, catalog, cli):
    client = fast_client(s3_env)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put_many(client, bucket, [(f"clips/v{i}.mp4", b"v" * 1000) for i in range(5)])
    boundary = next_second()
    cli("remote", "add", "v", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("sweep", "--remote", "v", "--as-of", iso(boundary + 6 * DAY))
    assert code == 0 and out["versioning"] == "Enabled"
    assert out["notes"] == [
        "The bucket is versioned (Enabled): a delete only adds a delete marker and the data stays stored as "
        "noncurrent versions. To expire them, apply the lifecycle rules: 'mediaclean lifecycle --remote v --apply' "
        "(adds a NoncurrentVersionExpiration rule)."]
    code, ran = cli("sweep", "--plan", out["plan_id"], "--yes")
    assert code == 0
    assert ran["deleted_count"] == 5 and ran["mode"] == "delete_marker"
    assert ran["freed_bytes"] == 0 and ran["deleted_size_mb"] == 0.0 and ran["hidden_bytes"] == 5000
    assert ran["message"] == ("Deleted 5 files (0.01 MB hidden behind delete markers, still stored as noncurrent "
                              "versions), retained 0 recent clips")
    versions = client.list_object_versions(Bucket=bucket)
    assert len(versions.get("Versions", [])) == 5 and len(versions.get("DeleteMarkers", [])) == 5
    assert listing(client, bucket) == {}
    assert {r["detail"] for r in run_items(catalog, ran["run_id"])} == {"delete marker added"}


def test_cancel_between_batches(old_clips, catalog, bucket):
    client, as_of = old_clips
    plan_id = plan_sweep(catalog, "r", as_of=as_of)
    token = CancelToken()
    progress = Progress(callback=lambda p: token.cancel() if p.done >= 5 else None)
    result = execute_sweep_plan(catalog, plan_id, batch_size=5, progress=progress, cancel=token, concurrency=1)
    assert result.status == "cancelled" and result.deleted_count == 5
    assert result.details["message"] == ("Deleted 5 files (0.00 MB), retained 15 objects (0 recent clips) (cancelled)")
    assert len(listing(client, bucket)) == 15
    details = [r["detail"] for r in run_items(catalog, result.run_id) if r["outcome"] == "skipped"]
    assert details == ["cancelled before it was reached"] * 15


def test_the_run_is_journaled_before_the_first_delete(old_clips, catalog, catalog_path):
    _, as_of = old_clips
    plan_id = plan_sweep(catalog, "r", as_of=as_of)
    run_client = make_client(catalog_remote(catalog))
    seen: list[tuple] = []

    def look(request, **_):
        if _is_probe(request.body) or seen:
            return
        other = sqlite3.connect(catalog_path)
        seen.append(other.execute("SELECT r.status, count(*), sum(ri.outcome = 'pending'), "
                                  "sum(ri.plan_item_id BETWEEN r.in_flight_from AND r.in_flight_to) FROM runs r "
                                  "JOIN run_items ri ON ri.run_id = r.id WHERE r.plan_id = ?", (plan_id,)).fetchone())
        other.close()

    run_client.meta.events.register("before-send.s3.DeleteObjects", look)
    execute_sweep_plan(catalog, plan_id, client=run_client, batch_size=8, concurrency=1)
    assert seen == [("running", 20, 20, 8)]


def _killed_in_the_second_batch(catalog, as_of) -> int:
    """Plan a sweep and run it in batches of 6 until the process 'dies' (KeyboardInterrupt) right after the store
    answered the second batch (the probe, batch 1, then batch 2 deleted in the store but never recorded);
    returns the plan id."""
    plan_id = plan_sweep(catalog, "r", as_of=as_of)
    run_client = make_client(catalog_remote(catalog))
    calls = {"n": 0}

    def crash(**_):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    run_client.meta.events.register("after-call.s3.DeleteObjects", crash)
    with pytest.raises(KeyboardInterrupt):
        execute_sweep_plan(catalog, plan_id, client=run_client, batch_size=6, concurrency=1)
    return plan_id


def test_a_crash_mid_run_is_reconciled(old_clips, catalog, bucket):
    client, as_of = old_clips
    plan_id = _killed_in_the_second_batch(catalog, as_of)
    (run,) = list_runs(catalog)
    assert run["status"] == "running"
    assert len(listing(client, bucket)) == 8

    with catalog.writer("test"):
        assert reconcile_interrupted_sweeps(catalog) == [run["id"]]
    (run,) = list_runs(catalog)
    assert run["status"] == "interrupted" and run["deleted_count"] == 12
    assert run["summary"].startswith("Interrupted; reconciled: Deleted 12 objects · freed ")
    assert run["summary"].endswith(" · 8 skipped")
    items = run_items(catalog, run["id"])
    assert [i["outcome"] for i in items] == ["deleted"] * 12 + ["skipped"] * 8
    assert {i["detail"] for i in items[6:12]} == {"gone after the run was interrupted"}
    assert {i["detail"] for i in items[12:]} == {"not done: the run was interrupted"}
    assert sum(i["freed_bytes"] for i in items) == run["freed_bytes"] > 0
    # the interrupted plan cannot be run again; a new preview picks up what is left
    with pytest.raises(SafetyRefusal, match="already been run"):
        execute_sweep_plan(catalog, plan_id)
    again = execute_sweep_plan(catalog, plan_sweep(catalog, "r", as_of=as_of))
    assert again.deleted_count == 8 and listing(client, bucket) == {}


@pytest.mark.seaweedfs_only("the store is stopped and started again with its data")
def test_reconcile_at_start_up_never_hangs_on_a_store_that_is_gone(old_clips, catalog, bucket, s3_env, cli):
    """A sweep killed with a batch in flight, then the store goes away: the next start reconciles in seconds
    (short timeouts), says the batch in flight is unknown (preview again), and the rest not done."""
    import time

    client, as_of = old_clips
    _killed_in_the_second_batch(catalog, as_of)
    s3_env.stop()
    try:
        started = time.monotonic()
        code, history = cli("history")
        took = time.monotonic() - started
    finally:
        s3_env.start()
    assert code == 0 and took < 20, took
    (run,) = [r for r in history["runs"] if r["kind"] == "sweep"]
    assert run["status"] == "interrupted"
    items = run_items(catalog, run["id"])
    assert [i["outcome"] for i in items] == ["deleted"] * 6 + ["skipped"] * 14
    assert {i["detail"] for i in items[6:12]} == {"unknown: the run was interrupted while deleting it; preview again"}
    assert {i["detail"] for i in items[12:]} == {"not done: the run was interrupted"}
    assert len(listing(client, bucket)) == 8  # the store did delete the batch in flight: nothing is claimed


def _listing_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name == "mediaclean-list"]


def test_cancel_while_listing_leaves_no_plan(old_clips, catalog, monkeypatch):
    from mediaclean_gui.core.events import Cancelled

    monkeypatch.setattr("mediaclean_gui.core.s3.listing.PAGE_SIZE", 5)
    token = CancelToken()
    progress = Progress(callback=lambda p: token.cancel() if p.done >= 5 else None)
    with pytest.raises(Cancelled):
        plan_sweep(catalog, "r", progress=progress, cancel=token)
    assert progress.done == 5
    assert catalog.conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
    assert catalog.conn.execute("SELECT count(*) FROM plan_items").fetchone()[0] == 0
    assert _listing_threads() == []


def test_store_error_in_the_middle_of_the_listing(old_clips, catalog, bucket, monkeypatch):
    """The listing runs a page ahead on a helper thread; its errors still reach the caller as one sentence."""
    from botocore.awsrequest import AWSResponse

    from mediaclean_gui.core.s3.remote import S3Error

    monkeypatch.setattr("mediaclean_gui.core.s3.listing.PAGE_SIZE", 5)
    client = make_client(catalog_remote(catalog))
    calls = {"n": 0}

    def deny(request, **_):
        calls["n"] += 1
        if calls["n"] == 3:
            body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            return AWSResponse(request.url, 403, {"Content-Type": "application/xml"}, _Raw(body))
        return None

    client.meta.events.register("before-send.s3.ListObjectsV2", deny)
    with pytest.raises(S3Error) as info:
        plan_sweep(catalog, "r", client=client)
    assert str(info.value) == (f"Sweep failed: access denied to bucket '{bucket}' (check "
                               f"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the remote's profile and the bucket's "
                               f"policy).")
    assert catalog.conn.execute("SELECT count(*) FROM plans").fetchone()[0] == 0
    assert _listing_threads() == []


def test_batches_in_flight_together_are_all_recorded(old_clips, catalog, bucket):
    """With several DeleteObjects requests in flight, every item still gets its own outcome, in plan order,
    and a cancel lets the requests already sent finish."""
    client, as_of = old_clips
    plan_id = plan_sweep(catalog, "r", as_of=as_of)
    token = CancelToken()
    progress = Progress(callback=lambda p: token.cancel() if p.done >= 3 else None)
    result = execute_sweep_plan(catalog, plan_id, batch_size=3, concurrency=3, progress=progress, cancel=token)
    assert result.status == "cancelled"
    # batches 1-3 were sent before the first was recorded; the cancel came with batch 1's progress, so no
    # fourth batch went, batches 2 and 3 finished and were recorded, and the other 11 objects stayed
    assert result.deleted_count == 9 and len(listing(client, bucket)) == 11
    outcomes = [r["outcome"] for r in run_items(catalog, result.run_id)]
    assert outcomes == ["deleted"] * 9 + ["skipped"] * 11
    # versioning, probe, three batches (and a listing per batch where the store ignores ETag conditions)
    assert result.details["requests"] == 2 + 3 * (1 if result.details["conditional_deletes"] else 2)
