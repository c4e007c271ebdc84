"""F8 lifecycle export: the rules, what they cannot express, and the merge/apply/read-back round trip through
the real SeaweedFS (foreign rules kept, mediaclean's replaced)."""

from __future__ import annotations

import datetime as dt

import pytest
from sweep_data import fast_client, put_many

from mediaclean_gui.core.s3.lifecycle import build_rules, compare_rules, grace_days, merge_rules, normalise_rule

FOREIGN = [
    {"ID": "logs-30d", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
    {"ID": "tagged", "Filter": {"And": {"Prefix": "x/", "Tags": [{"Key": "tier", "Value": "cold"}]}},
     "Status": "Disabled", "Expiration": {"Days": 3}},
]
STALE = {"ID": "mediaclean-temp-old", "Filter": {"Prefix": "cube/old/"}, "Status": "Enabled",
         "Expiration": {"Days": 9}}


def test_rules_for_a_clips_bucket():
    rules = build_rules("cube/", clip_prefixes=["clips/"], temp_prefixes=["audio/", "uploads/"], retention_days=5,
                        grace_hours=30, versioned=False)
    assert rules == [
        {"ID": "mediaclean-clips", "Filter": {"Prefix": "cube/clips/"}, "Status": "Enabled",
         "Expiration": {"Days": 5}},
        {"ID": "mediaclean-temp-audio", "Filter": {"Prefix": "cube/audio/"}, "Status": "Enabled",
         "Expiration": {"Days": 2}},
        {"ID": "mediaclean-temp-uploads", "Filter": {"Prefix": "cube/uploads/"}, "Status": "Enabled",
         "Expiration": {"Days": 2}},
        {"ID": "mediaclean-abort-incomplete-multipart-uploads", "Filter": {"Prefix": "cube/"}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    ]
    versioned = build_rules("", clip_prefixes=["clips/"], temp_prefixes=[], retention_days=5, grace_hours=24,
                            versioned=True, noncurrent_days=3)
    assert versioned[-1] == {"ID": "mediaclean-noncurrent-versions", "Filter": {"Prefix": ""}, "Status": "Enabled",
                             "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
                             "Expiration": {"ExpiredObjectDeleteMarker": True}}


def test_rule_ids_are_unique_and_safe():
    rules = build_rules("", clip_prefixes=[], temp_prefixes=["a b/", "a_b/", "é/"], retention_days=5,
                        grace_hours=24, versioned=False)
    ids = [r["ID"] for r in rules]
    assert ids[:3] == ["mediaclean-temp-a_b", "mediaclean-temp-a_b-2", "mediaclean-temp"]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("hours, days", [(1, 1), (24, 1), (25, 2), (48, 2), (0, 1)])
def test_grace_period_in_whole_days(hours, days):
    assert grace_days(hours) == days


def test_merge_keeps_foreign_rules_and_replaces_ours():
    ours = build_rules("cube/", clip_prefixes=["clips/"], temp_prefixes=[], retention_days=5, grace_hours=24,
                       versioned=False)
    merged = merge_rules(FOREIGN[:1] + [STALE] + FOREIGN[1:], ours)
    assert [r["ID"] for r in merged] == ["logs-30d", "tagged", "mediaclean-clips",
                                         "mediaclean-abort-incomplete-multipart-uploads"]


def test_normalised_rules_compare_equal_across_forms():
    legacy = {"ID": "a", "Prefix": "", "Status": "Enabled", "Expiration": {"Days": 1}}
    modern = {"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}
    assert normalise_rule(legacy) == normalise_rule(modern)
    dated = {"ID": "d", "Filter": {"Prefix": "f/"}, "Status": "Enabled",
             "Expiration": {"Date": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)}}
    assert normalise_rule(dated)["Expiration"] == {"Date": "2030-01-01T00:00:00Z"}
    assert compare_rules([modern], [legacy]) == []
    assert compare_rules([modern], []) == ["Rule 'a' is missing from the configuration read back."]


@pytest.fixture
def clips_bucket(s3_env, bucket, cli):
    client = fast_client(s3_env)
    put_many(client, bucket, [("cube/clips/a.mp4", b"a"), ("cube/uploads/a.mp4", b"b"), ("cube/audio/a.mp3", b"c"),
                              ("cube/loose.json", b"{}"), ("elsewhere/z", b"z")])
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": FOREIGN + [STALE]})
    code, _ = cli("remote", "add", "cube", "--bucket", bucket, "--prefix", "cube", "--endpoint-url",
                  s3_env.endpoint_url)
    assert code == 0
    return client


@pytest.mark.s3
def test_export_shows_rules_and_changes_nothing(clips_bucket, bucket, cli):
    before = clips_bucket.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    code, out = cli("lifecycle", "--remote", "cube")
    assert code == 0 and out["applied"] is False
    assert [r["ID"] for r in out["rules"]] == ["mediaclean-clips", "mediaclean-temp-audio", "mediaclean-temp-uploads",
                                               "mediaclean-abort-incomplete-multipart-uploads"]
    assert out["rules"][0] == {"ID": "mediaclean-clips", "Filter": {"Prefix": "cube/clips/"}, "Status": "Enabled",
                               "Expiration": {"Days": 5}}
    assert out["foreign_rules_kept"] == 2
    assert [r["ID"] for r in out["merged_rules"]][:2] == ["logs-30d", "tagged"]
    cannot = " ".join(out["cannot_express"])
    assert "marks protected" in cannot and "Unfinished jobs" in cannot and "created_at" in cannot
    assert "1 object(s) lie directly under the prefix" in cannot
    assert clips_bucket.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == before


@pytest.mark.s3
def test_apply_merges_and_round_trips_through_the_store(clips_bucket, bucket, cli, s3_env):
    code, out = cli("lifecycle", "--remote", "cube", "--apply", "--retention-days", "7", "--grace-hours", "36")
    assert code == 0, out
    assert out["applied"] is True and out["verified"] is True and out["mismatches"] == []
    stored = clips_bucket.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    by_id = {r["ID"]: normalise_rule(r) for r in stored}
    assert set(by_id) == {"logs-30d", "tagged", "mediaclean-clips", "mediaclean-temp-audio",
                          "mediaclean-temp-uploads", "mediaclean-abort-incomplete-multipart-uploads"}
    assert by_id["mediaclean-clips"]["Expiration"] == {"Days": 7}
    assert by_id["mediaclean-temp-uploads"]["Expiration"] == {"Days": 2}
    assert by_id["tagged"] == normalise_rule(FOREIGN[1]) and by_id["logs-30d"] == normalise_rule(FOREIGN[0])
    # applying again replaces ours instead of adding copies
    code, again = cli("lifecycle", "--remote", "cube", "--apply")
    assert code == 0 and again["verified"] is True
    stored = clips_bucket.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(stored) == 6 and {r["ID"]: r for r in stored}["mediaclean-clips"]["Expiration"] == {"Days": 5}
    if s3_env.name == "seaweedfs":
        assert any("SeaweedFS turns an Expiration rule into a TTL" in n for n in again["notes"])


@pytest.mark.s3
def test_versioned_bucket_gets_noncurrent_version_expiration(s3_env, bucket, cli):
    client = fast_client(s3_env)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put_many(client, bucket, [("clips/a.mp4", b"a")])
    cli("remote", "add", "v", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("lifecycle", "--remote", "v", "--apply", "--noncurrent-days", "2")
    assert code == 0 and out["verified"] is True and out["versioning"] == "Enabled"
    stored = {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert stored["mediaclean-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 2}
    assert stored["mediaclean-noncurrent-versions"]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert any("versioned (Enabled)" in n for n in out["notes"])


@pytest.mark.s3
def test_a_bucket_without_rules_gets_ours(s3_env, bucket, cli):
    client = fast_client(s3_env)
    put_many(client, bucket, [("clips/a.mp4", b"a"), ("uploads/b.mp4", b"b")])
    cli("remote", "add", "n", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("lifecycle", "--remote", "n")
    assert out["existing_rules"] == [] and out["foreign_rules_kept"] == 0
    code, out = cli("lifecycle", "--remote", "n", "--apply")
    assert code == 0 and out["verified"] is True
    assert [r["ID"] for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]] == [
        "mediaclean-clips", "mediaclean-temp-uploads", "mediaclean-abort-incomplete-multipart-uploads"]
