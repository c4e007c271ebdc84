"""Profiles: every built-in pattern classifies, placeholders and wildcards, broken profiles, user overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediaclean_gui.core.errors import ConfigError, NotFound
from mediaclean_gui.core.profiles import Role, all_profiles, get_profile, load_profile_file, parse_profile


@pytest.fixture
def user_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user profiles folder of our own (``$XDG_CONFIG_HOME/mediaclean/profiles``)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folder = tmp_path / "config" / "mediaclean" / "profiles"
    folder.mkdir(parents=True)
    return folder


# ---------------------------------------------------------------- built-ins

AI = [
    (".cache/audio/p1/scene-1.mp3", "p1", Role.INTERMEDIATE, {"project": "p1", "n": "1"}),
    (".cache/audio/p1/scene-12.mp3", "p1", Role.INTERMEDIATE, {"project": "p1", "n": "12"}),
    (".cache/videos/p1/scene-3-pexels-77.mp4", "p1", Role.INTERMEDIATE, {"project": "p1", "n": "3"}),
    (".cache/videos/p1/scene-3-.mp4", "p1", Role.INTERMEDIATE, {"project": "p1", "n": "3"}),
    (".cache/assembly/p1", "p1", Role.INTERMEDIATE, {"project": "p1"}),
    (".cache/assembly/p1/part-0.mp4", "p1", Role.INTERMEDIATE, {"project": "p1"}),
    (".cache/assembly/p1/deep/er/x.bin", "p1", Role.INTERMEDIATE, {"project": "p1"}),
    ("assets/cache/pexels/123.mp4", None, Role.SHARED_CACHE, {"provider": "pexels", "video_id": "123"}),
    (".cache/output/p1/final.mp4", "p1", Role.FINAL, {"project": "p1"}),
    (".cache/output/p1/final-thumb.jpg", "p1", Role.THUMBNAIL, {"project": "p1"}),
]


@pytest.mark.parametrize(("rel", "key", "role", "fields"), AI, ids=[a[0] for a in AI])
def test_ai_video_generator_patterns(rel, key, role, fields):
    profile = get_profile("ai-video-generator")
    found = profile.classify(rel, None)
    assert found is not None and found.role is role
    assert found.fields == fields
    # bound to its own project it still matches ...
    bound = profile.classify(rel, key)
    assert bound is not None and bound.role is role


@pytest.mark.parametrize(
    "rel",
    [
        ".cache/audio/p1/scene-x.mp3",  # {n} is digits
        ".cache/audio/p1/scene-1.wav",
        ".cache/audio/p1/sub/scene-1.mp3",  # {project} is one component
        ".cache/videos/p1/scene-1.mp4",  # the '-*' part is required
        ".cache/output/p1/other.mp4",
        "assets/cache/pexels/deep/1.mp4",
        "assets/cache/pexels/1.mov",
        ".cache/assembly",
        "cache/audio/p1/scene-1.mp3",
        "x/.cache/audio/p1/scene-1.mp3",
    ],
)
def test_ai_video_generator_non_matches(rel):
    assert get_profile("ai-video-generator").classify(rel, None) is None


def test_project_placeholder_binds_to_one_project():
    profile = get_profile("ai-video-generator")
    assert profile.classify(".cache/audio/p2/scene-1.mp3", "p1") is None
    assert profile.classify(".cache/assembly/p2/part.mp4", "p1") is None
    assert profile.classify(".cache/assembly/p10/part.mp4", "p1") is None
    # a project id full of regex characters is matched literally
    assert profile.classify(".cache/audio/a.b+c/scene-1.mp3", "a.b+c") is not None
    assert profile.classify(".cache/audio/aXb+c/scene-1.mp3", "a.b+c") is None


def test_folder_pattern_reports_the_folder():
    found = get_profile("ai-video-generator").classify(".cache/assembly/p1/a/b.mp4", "p1")
    assert found is not None and found.folder == ".cache/assembly/p1"
    assert get_profile("ai-video-generator").classify(".cache/audio/p1/scene-1.mp3", "p1").folder is None


def test_final_path_and_walk_prefixes():
    profile = get_profile("ai-video-generator")
    assert profile.final_path("p1") == ".cache/output/p1/final.mp4"
    assert profile.final_path(None) is None
    assert profile.walk_prefixes("p1") == [
        ".cache/assembly/p1", ".cache/audio/p1", ".cache/output/p1", ".cache/videos/p1", "assets/cache",
    ]
    assert profile.walk_prefixes(None) == [".cache/assembly", ".cache/audio", ".cache/output", ".cache/videos",
                                          "assets/cache"]


MV = [
    ("backend/mv/outputs/jobs/v1/video.mp4", {"video_id": "v1"}, "mv/jobs/{video_id}/video.mp4"),
    ("backend/mv/outputs/jobs/v1/metadata.json", {"video_id": "v1"}, "mv/jobs/{video_id}/metadata.json"),
    ("backend/mv/outputs/jobs/v1/reference_image.png", {"video_id": "v1", "ext": "png"},
     "mv/jobs/{video_id}/reference_image.{ext}"),
    ("backend/mv/outputs/audio/a/b/c.wav", {}, "mv/outputs/{path}"),
    ("backend/mv/outputs/videos/x.mp4", {}, "mv/outputs/{path}"),
]


@pytest.mark.parametrize(("rel", "fields", "key"), MV, ids=[m[0] for m in MV])
def test_mv_backend_patterns(rel, fields, key):
    found = get_profile("mv-backend").classify(rel)
    assert found is not None and found.role is Role.OUTPUT
    assert found.fields == fields and found.rule.key == key


def test_mv_backend_outside_outputs():
    profile = get_profile("mv-backend")
    assert profile.classify("backend/mv/models/weights.bin") is None
    assert profile.classify("backend/mv/outputs") is None
    assert profile.walk_prefixes(None) == ["backend/mv/outputs"]


@pytest.mark.parametrize("name", ["intro", "announcement", "how_it_works", "persona", "demo", "closing", "trim",
                                  "concatenate"])
def test_render_temp_folders(name):
    profile = get_profile("render-temp")
    found = profile.classify(f"{name}_8f2a/frame-001.png")
    assert found is not None and found.role is Role.TEMP and found.folder == f"{name}_8f2a"
    assert profile.classify(f"{name}_x") is not None
    assert profile.classify(f"{name}x/file") is None
    assert profile.classify(f"nested/{name}_1/file") is None


def test_render_temp_other_folders_are_left_alone():
    profile = get_profile("render-temp")
    assert profile.classify("uploads/a.mp4") is None
    assert profile.classify("intro.mp4") is None
    assert profile.final is None


def test_clips_bucket_double_star():
    profile = get_profile("clips-bucket")
    assert profile.classify("clips/a/b/c.mp4").role is Role.OUTPUT
    assert profile.classify("clips/x.mp4").role is Role.OUTPUT
    assert profile.classify("originals/job1.mp4").role is Role.SOURCE
    assert profile.classify("deep/er/audio.mp3").role is Role.SOURCE
    assert profile.walk_prefixes(None) == [""]


def test_double_star_in_the_middle_and_question_mark():
    profile = parse_profile(
        {"name": "t", "artifact": [{"pattern": "a/**/x-?.tmp", "role": "temp"}, {"pattern": "b/*.log", "role": "temp"}]},
        "test",
    )
    for rel in ("a/x-1.tmp", "a/b/x-1.tmp", "a/b/c/x-z.tmp"):
        assert profile.classify(rel) is not None, rel
    for rel in ("a/x-12.tmp", "ab/x-1.tmp", "a/b/x-.tmp", "b/c/d.log", "b/.logx"):
        assert profile.classify(rel) is None, rel
    assert profile.classify("b/.log") is not None  # '*' may be empty


def test_protected_roles_win_over_earlier_rules():
    profile = parse_profile(
        {"name": "t", "artifact": [{"pattern": "out/**", "role": "intermediate"},
                                   {"pattern": "out/final.mp4", "role": "final"}]},
        "test",
    )
    assert profile.classify("out/final.mp4").role is Role.FINAL
    assert profile.classify("out/other.mp4").role is Role.INTERMEDIATE


def test_every_builtin_loads():
    names = set(all_profiles())
    assert {"ai-video-generator", "mv-backend", "render-temp", "clips-bucket"} <= names


def test_unknown_profile_lists_known_ones():
    with pytest.raises(NotFound) as err:
        get_profile("no-such-layout")
    assert "No profile named 'no-such-layout'" in str(err.value)
    assert "ai-video-generator" in str(err.value)


# ---------------------------------------------------------------- broken profiles

GOOD = 'name = "mine"\n[[artifact]]\npattern = "tmp/**"\nrole = "temp"\n'


@pytest.mark.parametrize(
    ("text", "key", "what"),
    [
        ('name = "mine"\n[[artifact]\npattern = "x"\n', None, "not valid TOML"),
        ('[[artifact]]\npattern = "tmp/**"\nrole = "temp"\n', "'name'", "is missing"),
        ('name = 3\n[[artifact]]\npattern = "tmp/**"\nrole = "temp"\n', "'name'", "not a string"),
        ('name = "mine"\n', "'artifact'", "must be a non-empty array"),
        ('name = "mine"\n[[artifact]]\npattern = "tmp/**"\nrole = "garbage"\n', "'artifact[0].role'",
         "is 'garbage', which is not a role"),
        ('name = "mine"\n[[artifact]]\npattern = "tmp/**"\n', "'artifact[0].role'", "is None, which is not a role"),
        (GOOD + '[[artifact]]\npattern = "/etc/**"\nrole = "temp"\n', "'artifact[1].pattern'",
         "must be a relative path pattern"),
        (GOOD + '[[artifact]]\npattern = "a/../b"\nrole = "temp"\n', "'artifact[1].pattern'", "must not contain '..'"),
        (GOOD + '[[artifact]]\npattern = ""\nrole = "temp"\n', "'artifact[1].pattern'", "must be a relative path"),
        (GOOD + '[[artifact]]\npattern = 5\nrole = "temp"\n', "'artifact[1].pattern'", "must be a relative path"),
        (GOOD + '[[artifact]]\npattern = "x/{_folder}/"\nrole = "temp"\n', "'artifact[1].pattern'",
         "uses the unknown placeholder {_folder}"),
        (GOOD + '[[artifact]]\npattern = "x/{projct}/a.mp3"\nrole = "intermediate"\n', "'artifact[1].pattern'",
         "uses the unknown placeholder {projct}"),
        (GOOD + '[[artifact]]\npattern = "x/{job}/a.mp4"\nrole = "output"\nkey = "v/{jobb}.mp4"\n',
         "'artifact[1].key'", "uses the unknown placeholder {jobb}"),
        ('final = "out/{video}.mp4"\n' + GOOD, "'final'", "may use only the {project} placeholder"),
        ('final = "../out/{project}.mp4"\n' + GOOD, "'final'", "must be a relative file path template"),
        (GOOD + '[[artifact]]\npattern = "./x/*"\nrole = "temp"\n', "'artifact[1].pattern'",
         "must not contain '..' or '.'"),
        (GOOD + '[[artifact]]\npattern = "x/*"\nrole = "temp"\nkey = 7\n', "'artifact[1].key'", "must be a string"),
        ("final = 1\n" + GOOD, "'final'", "must be a path template"),
        ('name = "mine"\npipeline = {a = 1}\n[[artifact]]\npattern = "x"\nrole = "temp"\n', "'pipeline'",
         "must be a table of strings"),
    ],
    ids=["bad-toml", "missing-name", "name-not-string", "no-artifacts", "unknown-role", "missing-role", "absolute",
         "dotdot", "empty-pattern", "pattern-not-string", "reserved-placeholder", "typo-placeholder",
         "key-placeholder", "final-placeholder", "final-dotdot", "dot-folder", "bad-key", "bad-final",
         "bad-pipeline"],
)
def test_broken_profile_names_file_key_and_problem(user_profiles, text, key, what):
    path = user_profiles / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_profile_file(path)
    message = str(err.value)
    assert str(path) in message
    if key:
        assert f"key {key}" in message
    assert what in message
    # the same error surfaces when any profile is looked up: a broken file is never silently ignored
    with pytest.raises(ConfigError) as again:
        get_profile("ai-video-generator")
    assert str(path) in str(again.value)


def test_bad_toml_names_the_line(user_profiles):
    path = user_profiles / "broken.toml"
    path.write_text('name = "x"\nrole = = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2"):
        load_profile_file(path)


def test_unreadable_profile_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_profile_file(tmp_path / "missing.toml")


# ---------------------------------------------------------------- user profiles


def test_user_profile_is_added(user_profiles):
    (user_profiles / "mine.toml").write_text(GOOD, encoding="utf-8")
    profile = get_profile("mine")
    assert profile.source == str(user_profiles / "mine.toml")
    assert profile.classify("tmp/a/b").role is Role.TEMP


def test_user_profile_overrides_builtin(user_profiles):
    (user_profiles / "override.toml").write_text(
        'name = "ai-video-generator"\nreplaces_builtin = true\nfinal = "renders/{project}.mp4"\n'
        '[[artifact]]\npattern = "renders/{project}.mp4"\nrole = "final"\n'
        '[[artifact]]\npattern = "scratch/{project}/"\nrole = "intermediate"\n',
        encoding="utf-8",
    )
    profile = get_profile("ai-video-generator")
    assert profile.source.endswith("override.toml")
    assert profile.final_path("p1") == "renders/p1.mp4"
    assert profile.classify("scratch/p1/a.tmp", "p1").role is Role.INTERMEDIATE
    assert profile.classify(".cache/audio/p1/scene-1.mp3", "p1") is None
    # without the user folder the built-in is back
    (user_profiles / "override.toml").unlink()
    assert get_profile("ai-video-generator").source == "built-in ai-video-generator.toml"


def test_covering_folder():
    """A folder pattern classifies a whole folder at once, unless a rule tried first may match inside it."""
    profile = get_profile("ai-video-generator")
    found = profile.covering_folder(".cache/assembly/p1", "p1")
    assert found is not None and found.role is Role.INTERMEDIATE and found.fields == {}
    deep = profile.covering_folder(".cache/assembly/p1/scenes/03", None)
    assert deep is not None and deep.role is Role.INTERMEDIATE and deep.fields == {"project": "p1"}
    for folder in (".cache/audio/p1", ".cache/output/p1", ".cache/assembly", ".cache", "assets/cache/pexels"):
        assert profile.covering_folder(folder, None) is None, folder
    assert profile.covering_folder(".cache/assembly/p2", "p1") is None
    # a final inside an intermediate folder: every file there must be looked at one by one
    nested = parse_profile({"name": "t", "artifact": [
        {"pattern": "renders/{project}/", "role": "intermediate"},
        {"pattern": "renders/{project}/final.mp4", "role": "final"}]}, "t")
    assert nested.covering_folder("renders/p1", "p1") is None
    assert nested.covering_folder("renders/p1/tmp", "p1") is not None  # below the final's folder nothing else matches
    assert nested.classify("renders/p1/final.mp4", "p1").role is Role.FINAL


def test_a_user_profile_cannot_replace_a_builtin_silently(user_profiles):
    """Invariant 12: the same name without ``replaces_builtin = true`` is an error naming the file and key."""
    path = user_profiles / "clash.toml"
    path.write_text('name = "ai-video-generator"\n[[artifact]]\npattern = "**"\nrole = "intermediate"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        get_profile("ai-video-generator")
    assert str(path) in str(err.value) and "key 'name'" in str(err.value) and "built-in" in str(err.value)


def test_the_final_a_profile_names_is_protected_even_without_a_rule(user_profiles):
    """Invariant 12: ``final =`` outranks a catch-all deletable pattern of the same profile."""
    (user_profiles / "greedy.toml").write_text(
        'name = "greedy"\nfinal = "out/{project}/final.mp4"\n[[artifact]]\npattern = "**"\nrole = "intermediate"\n',
        encoding="utf-8")
    profile = get_profile("greedy")
    assert profile.classify("out/p1/final.mp4", "p1").role is Role.FINAL
    assert profile.classify("out/p1/final.mp4", None).role is Role.FINAL
    assert profile.classify("out/p1/other.mp4", "p1").role is Role.INTERMEDIATE
