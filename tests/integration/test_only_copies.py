"""F3: the bucket knows its only copies. Objects mediaclean uploaded and then deleted locally are kept by every
sweep and every lifecycle rule of any remote on the same bucket, until a remote's upload_retention_days lets
them go — on SeaweedFS and on moto, with real media."""

from __future__ import annotations

import datetime as dt

import pytest
from sweep_data import iso, listing

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.plan import iter_items, iter_kept

pytestmark = pytest.mark.s3
DAY = dt.timedelta(days=1)


def _uploaded(cli, s3_env, bucket, mv_workspace) -> tuple[list[str], dict[str, str]]:
    """Upload job v1 (3 small files) and v2 (a multipart video) with --delete-after-upload; returns the keys
    and ``{key: ETag}`` of the bucket afterwards."""
    rels = mv_workspace.job("v1") + mv_workspace.job("v2", big=True)
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url, "--prefix",
               "gen", "--layout", "mv-backend")[0] == 0
    assert cli("prefs", "multipart_threshold_mb", 5)[0] == 0
    code, out = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0, out
    assert len(out["deleted_local"]) == len(rels)
    assert not any(mv_workspace.path(r).exists() for r in rels)
    keys = sorted(u["key"] for u in out["uploaded"])
    assert len(keys) == len(rels)
    return keys, listing(s3_env.client(), bucket)


def _kept_details(catalog_path, plan_id: int) -> dict[str, str]:
    cat = Catalog(catalog_path)
    try:
        return {k.target: f"{k.reason.value}: {k.detail}" for k in iter_kept(cat, plan_id)}
    finally:
        cat.close()


def _planned(catalog_path, plan_id: int) -> set[str]:
    cat = Catalog(catalog_path)
    try:
        return {i.target for i in iter_items(cat, plan_id)}
    finally:
        cat.close()


def test_every_sweep_of_every_remote_keeps_the_only_copies(cli, s3_env, bucket, mv_workspace, catalog_path):
    keys, before = _uploaded(cli, s3_env, bucket, mv_workspace)
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    reason = f"protected: only copy: uploaded from project mv, local copy deleted on {today}"
    raw = s3_env.client()
    raw.put_object(Bucket=bucket, Key="gen/mv/scratch.tmp", Body=b"temporary")  # not ours: may go
    later = iso(dt.datetime.now(dt.timezone.utc) + 30 * DAY)

    # the remote that uploaded them: its layout calls mv/ temporary, yet nothing uploaded is planned
    code, out = cli("sweep", "--remote", "store", "--as-of", later)
    assert code == 0, out
    assert _planned(catalog_path, out["plan_id"]) == {"gen/mv/scratch.tmp"}
    kept = _kept_details(catalog_path, out["plan_id"])
    assert {k: kept[k] for k in keys} == {k: reason for k in keys}
    assert out["only_copies_kept"] == len(keys)

    # a second remote on the same bucket, spelled differently (trailing slash, no prefix, another layout)
    assert cli("remote", "add", "whole", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url + "/")[0] == 0
    code, out = cli("sweep", "--remote", "whole", "--as-of", later, "--yes")
    assert code == 0, out
    after = listing(raw, bucket)
    assert {k: after.get(k) for k in keys} == {k: before[k] for k in keys}
    assert "gen/mv/scratch.tmp" not in after

    # the catalog's memory outlives the remote that uploaded them
    assert cli("remote", "remove", "store", "--force")[0] == 0
    code, out = cli("sweep", "--remote", "whole", "--as-of", later)
    assert out["deleted_count"] == 0
    assert set(_kept_details(catalog_path, out["plan_id"]).values()) == {reason}


def test_upload_retention_days_lets_them_go_after_n_days(cli, s3_env, bucket, mv_workspace, catalog_path):
    keys, _ = _uploaded(cli, s3_env, bucket, mv_workspace)
    now = dt.datetime.now(dt.timezone.utc)
    assert cli("remote", "add", "ten", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url,
               "--upload-retention-days", "10")[0] == 0
    code, out = cli("sweep", "--remote", "ten", "--as-of", iso(now + 5 * DAY))
    assert code == 0 and out["deleted_count"] == 0
    code, out = cli("sweep", "--remote", "ten", "--as-of", iso(now + 11 * DAY))
    assert out["only_copies_released"] == len(keys) and out["only_copies_kept"] == 0
    assert _planned(catalog_path, out["plan_id"]) == set(keys)
    # the remote without a retention still keeps them at that instant
    code, kept = cli("sweep", "--remote", "store", "--as-of", iso(now + 11 * DAY))
    assert kept["deleted_count"] == 0
    # 'remote set' changes it back: keep forever
    code, changed = cli("remote", "set", "ten", "--upload-retention-days", "none")
    assert code == 0 and changed["remote"]["upload_retention_days"] is None
    code, out = cli("sweep", "--remote", "ten", "--as-of", iso(now + 11 * DAY))
    assert out["deleted_count"] == 0
    cli("remote", "set", "ten", "--upload-retention-days", "10")
    code, out = cli("sweep", "--remote", "ten", "--as-of", iso(now + 11 * DAY))
    code, ran = cli("sweep", "--plan", out["plan_id"], "--yes")
    assert code == 0, ran
    assert ran["deleted_count"] == len(keys)
    assert not set(keys) & set(listing(s3_env.client(), bucket))


def test_no_lifecycle_rule_expires_an_only_copy(cli, s3_env, bucket, mv_workspace):
    keys, _ = _uploaded(cli, s3_env, bucket, mv_workspace)
    raw = s3_env.client()
    raw.put_object(Bucket=bucket, Key="gen/mv/renders/tmp-1.mp4", Body=b"a render temp file")
    raw.put_object(Bucket=bucket, Key="gen/scratch/x.bin", Body=b"x")
    assert cli("remote", "add", "whole", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)[0] == 0
    for name in ("store", "whole"):
        code, out = cli("lifecycle", "--remote", name)
        assert code == 0, out
        expiring = [r for r in out["rules"] if "Days" in r.get("Expiration", {})]
        assert expiring, out["rules"]
        for rule in expiring:
            prefix = rule["Filter"]["Prefix"]
            assert not [k for k in keys if k.startswith(prefix)], (name, rule)
        prefixes = {r["Filter"]["Prefix"] for r in expiring}
        # narrowed, not dropped: the folders beside the uploads still get their rule
        assert "gen/mv/renders/" in prefixes, prefixes
        assert any("only copies of uploaded outputs" in c for c in out["cannot_express"])
    # applied and read back, the store holds exactly those rules
    code, out = cli("lifecycle", "--remote", "whole", "--apply")
    assert code == 0 and out["verified"] is True, out
    stored = raw.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    for rule in stored:
        if "Days" in rule.get("Expiration", {}):
            prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", ""))
            assert not [k for k in keys if k.startswith(prefix)], rule


def test_an_object_that_becomes_the_only_copy_after_the_sweep_preview_is_not_deleted(
        cli, s3_env, bucket, mv_workspace, catalog_path):
    """The sweep preview plans an old object; an upload then proves the same bytes there and deletes the
    local file; running the earlier sweep plan keeps the object (the catalog is asked again per batch)."""
    rels = mv_workspace.job("v1", image=False)
    raw = s3_env.client()
    for rel in rels:  # another client stored the very same bytes earlier
        raw.put_object(Bucket=bucket, Key="gen/mv/jobs/v1/" + rel.rsplit("/", 1)[1],
                       Body=mv_workspace.path(rel).read_bytes())
    raw.put_object(Bucket=bucket, Key="gen/mv/scratch.tmp", Body=b"temporary")
    assert cli("project", "add", mv_workspace.root, "--profile", "mv-backend", "--name", "mv")[0] == 0
    assert cli("remote", "add", "store", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url, "--prefix",
               "gen", "--layout", "mv-backend")[0] == 0
    later = iso(dt.datetime.now(dt.timezone.utc) + 30 * DAY)
    code, sweep = cli("sweep", "--remote", "store", "--as-of", later)
    assert sweep["deleted_count"] == 3  # nothing is an only copy yet
    code, up = cli("upload", "mv", "--remote", "store", "--delete-after-upload", "--yes")
    assert code == 0 and len(up["deleted_local"]) == 2 and up["uploaded"] == [], up
    code, ran = cli("sweep", "--plan", sweep["plan_id"], "--yes")
    assert code == 0, ran
    assert ran["deleted_count"] == 1 and ran["deleted_files_sample"] == ["gen/mv/scratch.tmp"]
    reasons = {s["target"]: s["reason"] for s in ran["skipped"]}
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    for rel in rels:
        key = "gen/mv/jobs/v1/" + rel.rsplit("/", 1)[1]
        assert reasons[key] == (f"kept: only copy: uploaded from project mv, local copy deleted on {today} "
                                f"(since the preview)")
    assert set(listing(raw, bucket)) == {"gen/mv/jobs/v1/video.mp4", "gen/mv/jobs/v1/metadata.json"}
