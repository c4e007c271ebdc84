"""The sweep's retention rules (seed 004, F4/F5) as pure functions over one listed object."""

from __future__ import annotations

import datetime as dt

import pytest

from mediaclean_gui.core.plan import Reason
from mediaclean_gui.core.profiles import get_profile
from mediaclean_gui.core.s3.pipeline import ClipRef, JobState, SourceRef
from mediaclean_gui.core.s3.retention import F5_GROUP, Facts, ListedObject, RetentionPolicy, decide

UTC = dt.timezone.utc
AS_OF = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(retention_days=5, grace_hours=24, as_of=AS_OF)
PROFILE = get_profile("clips-bucket")


def obj(rel: str, age: dt.timedelta, size: int = 1000, prefix: str = "cube/") -> ListedObject:
    return ListedObject(prefix + rel, rel, size, '"etag"', AS_OF - age)


def source(state: JobState, kind: str = "original", job: str = "7", total: int = 3, done: int = 3) -> SourceRef:
    return SourceRef("uploads/x.mp4", kind, job, state, total, done)


DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def test_clip_newer_than_retention_is_kept_and_older_is_deleted():
    new = decide(obj("clips/a.mp4", 4 * DAY), POLICY, PROFILE)
    assert not new.delete and new.reason is Reason.TOO_NEW
    assert new.detail == "modified 4 days ago; clips are kept for 5 days"
    assert new.group == "clips/ · newer than the retention period" and new.role == "output"
    old = decide(obj("clips/a.mp4", 6 * DAY), POLICY, PROFILE)
    assert old.delete and old.reason is None
    assert old.group == "clips/ · older than 5 days"
    assert old.rule == "clip older than the 5-day retention period (modified 6 days ago)"


def test_retention_boundary_is_inclusive_for_keeping():
    assert not decide(obj("clips/a.mp4", 5 * DAY), POLICY, PROFILE).delete
    assert decide(obj("clips/a.mp4", 5 * DAY + dt.timedelta(seconds=1)), POLICY, PROFILE).delete


def test_completed_clip_within_retention_is_protected_whatever_its_object_age():
    created = AS_OF - 2 * DAY
    facts = Facts(completed_clip=ClipRef("clips/a.mp4", "12", "7", created))
    verdict = decide(obj("clips/a.mp4", 30 * DAY), POLICY, PROFILE, facts)
    assert not verdict.delete and verdict.reason is Reason.PROTECTED
    assert verdict.detail == ("completed clip 12 of job 7, created 2026-11-29 12:00 UTC, within the 5-day "
                              "retention period")


def test_completed_clip_created_before_retention_is_deleted():
    facts = Facts(completed_clip=ClipRef("clips/a.mp4", "12", "7", AS_OF - 9 * DAY))
    assert decide(obj("clips/a.mp4", 9 * DAY), POLICY, PROFILE, facts).delete


@pytest.mark.parametrize("raw", ["'xyz'", "NULL", "'1795168800000000'"])
def test_completed_clip_with_unreadable_date_is_kept_whatever_its_age(raw):
    """Invariant 15: a date that cannot be read never makes a clip deletable (it used to fall back to the
    object's age, and 200 completed clips within retention were deleted)."""
    facts = Facts(completed_clip=ClipRef("clips/a.mp4", "12", "7", None, raw))
    for age in (1 * DAY, 9 * DAY, 900 * DAY):
        verdict = decide(obj("clips/a.mp4", age), POLICY, PROFILE, facts)
        assert not verdict.delete and verdict.reason is Reason.UNREADABLE
        assert verdict.detail == f"its completion date cannot be read: {raw} (completed clip 12 of job 7)"
        assert verdict.group == "clips/ · completion date unreadable"


def test_a_completed_clip_outside_clips_folder_follows_clip_retention_not_the_grace_period():
    facts = Facts(completed_clip=ClipRef("renders/a.mp4", "1", "7", AS_OF - 1 * DAY))
    verdict = decide(obj("renders/a.mp4", 3 * DAY), POLICY, PROFILE, facts)
    assert not verdict.delete and verdict.reason is Reason.PROTECTED and verdict.role == "output"


def test_catalog_protection_beats_every_rule():
    facts = Facts(protected="protected in the catalog: marked by the user",
                  sources=(source(JobState.FINISHED),))
    for rel in ("clips/a.mp4", "uploads/x.mp4"):
        verdict = decide(obj(rel, 400 * DAY), POLICY, PROFILE, facts)
        assert not verdict.delete and verdict.reason is Reason.PROTECTED
        assert verdict.detail == "protected in the catalog: marked by the user"


def test_source_of_an_unfinished_job_is_kept_however_old():
    facts = Facts(sources=(source(JobState.UNFINISHED, done=1),))
    verdict = decide(obj("uploads/x.mp4", 90 * DAY), POLICY, PROFILE, facts)
    assert not verdict.delete and verdict.reason is Reason.UNFINISHED_JOB
    assert verdict.detail == "original of job 7 (1/3 clips completed)"
    assert verdict.reason.value == "belongs to an unfinished job"


def test_unfinished_wins_when_a_key_is_shared_with_a_finished_job():
    facts = Facts(sources=(source(JobState.FINISHED, job="1"), source(JobState.UNFINISHED, job="2", done=0)))
    assert not decide(obj("uploads/x.mp4", 90 * DAY), POLICY, PROFILE, facts).delete


def test_source_of_a_finished_job_goes_at_once_in_the_f5_group():
    facts = Facts(sources=(source(JobState.FINISHED, kind="audio"),))
    verdict = decide(obj("audio/x.mp3", 10 * dt.timedelta(minutes=1)), POLICY, PROFILE, facts)
    assert verdict.delete and verdict.f5 and verdict.group == F5_GROUP == "job sources"
    assert verdict.rule == "audio of job 7 (3/3 clips completed): its job is finished, so its sources go"
    assert verdict.role == "source"


def test_source_of_a_job_without_clips_follows_the_grace_period():
    facts = Facts(sources=(source(JobState.NO_CLIPS, total=0, done=0),))
    assert not decide(obj("uploads/x.mp4", 2 * HOUR), POLICY, PROFILE, facts).delete
    assert decide(obj("uploads/x.mp4", 30 * HOUR), POLICY, PROFILE, facts).delete


@pytest.mark.parametrize("rel, group", [
    ("uploads/2026/x.mp4", "uploads/ · temporary, older than 24 h"),
    ("audio/x.mp3", "audio/ · temporary, older than 24 h"),
    ("stray.json", "(top level) · temporary, older than 24 h"),
])
def test_other_objects_go_after_the_grace_period_grouped_by_top_prefix(rel, group):
    young = decide(obj(rel, 23 * HOUR), POLICY, PROFILE)
    assert not young.delete and young.reason is Reason.TOO_NEW
    assert young.detail == "modified 23 h ago; temporary objects are kept for the 24 h grace period"
    old = decide(obj(rel, 25 * HOUR), POLICY, PROFILE)
    assert old.delete and old.group == group
    assert old.rule == "temporary object older than the 24 h grace period (modified 25 h ago)"


def test_objects_newer_than_as_of_are_kept():
    """``--as-of`` in the past: an object written after that instant is not old at all."""
    assert not decide(obj("clips/a.mp4", -3 * DAY), POLICY, PROFILE).delete
    assert not decide(obj("uploads/a.mp4", -3 * DAY), POLICY, PROFILE).delete


def test_as_of_moves_the_boundary():
    o = obj("clips/a.mp4", 3 * DAY)
    assert not decide(o, POLICY, PROFILE).delete
    later = RetentionPolicy(5, 24, AS_OF + 3 * DAY)
    assert decide(o, later, PROFILE).delete


def test_listed_object_from_a_listing_page():
    entry = {"Key": "cube/clips/a.mp4", "LastModified": dt.datetime(2026, 11, 30, 13, 0, 5,
                                                                     tzinfo=dt.timezone(dt.timedelta(hours=1))),
             "ETag": '"9b2cf535f27731c974343645a3985328"', "Size": 1234, "StorageClass": "STANDARD"}
    o = ListedObject.from_listing(entry, "cube/")
    assert (o.key, o.rel, o.size, o.top_prefix) == ("cube/clips/a.mp4", "clips/a.mp4", 1234, "clips/")
    assert o.fingerprint() == {"etag": '"9b2cf535f27731c974343645a3985328"', "last_modified": "2026-11-30T12:00:05Z",
                               "size": 1234}
    assert ListedObject.from_listing(dict(entry, Key="top.bin"), "").top_prefix == ""
