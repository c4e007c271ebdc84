"""Object keys from profile templates (seed 000 mv-backend) and the folders emptied folders stop at."""

from __future__ import annotations

import pytest

from mediaclean_gui.core.errors import ConfigError
from mediaclean_gui.core.profiles import get_profile, parse_profile
from mediaclean_gui.core.projects import Project
from mediaclean_gui.core.s3.remote import Remote
from mediaclean_gui.core.s3.upload import key_of, object_key, output_folder


def _project(profile: str = "mv-backend", key: str | None = None) -> Project:
    return Project(1, "mv", "/w", profile, key, "inherit", "pending", None, 0, 0, 0, None)


def _remote(prefix: str = "") -> Remote:
    return Remote(1, "r", "bucket", prefix, None, None, None, None, "clips-bucket", "x")


@pytest.mark.parametrize("rel, key", [
    ("backend/mv/outputs/jobs/v42/video.mp4", "media/mv/jobs/v42/video.mp4"),
    ("backend/mv/outputs/jobs/v42/metadata.json", "media/mv/jobs/v42/metadata.json"),
    ("backend/mv/outputs/jobs/v42/reference_image.png", "media/mv/jobs/v42/reference_image.png"),
    ("backend/mv/outputs/audio/a/b.mp3", "media/mv/outputs/audio/a/b.mp3"),
])
def test_mv_backend_keys(rel, key):
    profile = get_profile("mv-backend")
    found = profile.classify(rel)
    assert object_key(_remote("media/"), _project(), rel, found) == key


def test_output_folders_never_the_outputs_root():
    profile = get_profile("mv-backend")
    for rel, folder in [("backend/mv/outputs/jobs/v1/video.mp4", "backend/mv/outputs/jobs"),
                        ("backend/mv/outputs/audio/x/y.mp3", "backend/mv/outputs/audio"),
                        ("backend/mv/outputs/loose.mp4", "backend/mv/outputs")]:
        assert output_folder(_project(), rel, profile.classify(rel)) == folder


def test_without_a_template_the_key_is_the_workspace_path():
    profile = parse_profile({"name": "t", "artifact": [{"pattern": "renders/{project}/**", "role": "output"}]}, "t")
    rel = "renders/p1/cut/final.mp4"
    found = profile.classify(rel, "p1")
    assert object_key(_remote("up/"), _project("t", "p1"), rel, found) == "up/" + rel


def test_ai_video_generator_final_key():
    profile = get_profile("ai-video-generator")
    rel = ".cache/output/p1/final.mp4"
    found = profile.classify(rel, "p1")
    assert object_key(_remote("up/"), _project("ai-video-generator", "p1"), rel, found) == "up/videos/p1/final.mp4"


def test_a_template_naming_an_uncaptured_placeholder_is_a_clear_error():
    """Invariant 12: caught when the profile is loaded, naming the file and the key."""
    with pytest.raises(ConfigError) as info:
        parse_profile({"name": "t", "artifact": [{"pattern": "out/{job}/v.mp4", "role": "output",
                                                  "key": "x/{video_id}/v.mp4"}]}, "test")
    assert "Profile test: key 'artifact[0].key' uses the unknown placeholder {video_id}" in str(info.value)


def test_key_of_reads_the_plan_items_rule():
    from mediaclean_gui.core.plan import Action, PlanItem

    item = PlanItem(Action.UPLOAD, "/w/a", 1, "output", "s3://bucket/media/a b/c.mp4", {})
    assert key_of(item) == "media/a b/c.mp4"
