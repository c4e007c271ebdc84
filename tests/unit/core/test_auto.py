"""F2 auto-cleanup: settle time, global switch, per-project override, AUTO_CLEANUP_ENABLED=false wins."""

from __future__ import annotations

import os
import time

import pytest

from mediaclean_gui.core.auto import check_eligibility, run_auto_cleanup
from mediaclean_gui.core.history import list_runs
from mediaclean_gui.core.projects import get_project, set_auto_cleanup


def render_after_registration(workspace, imported, renders: dict[str, float]):
    """Register the workspace's projects before their finals exist, then render each final (``{id: age in s}``)
    and import again: finals that appeared while mediaclean watched (F2)."""
    imported()
    for pid, age in renders.items():
        workspace.render_final(pid, age=age)
    return imported()


@pytest.fixture
def two_projects(workspace, imported):
    """'Settled' rendered an hour ago; 'Fresh' rendered just now — both after they were registered."""
    workspace.add_project("old", "Settled", final=False)
    workspace.add_project("new", "Fresh", final=False)
    return render_after_registration(workspace, imported, {"old": 3600, "new": 0})


def test_settled_final_is_cleaned_by_auto_and_a_fresh_one_is_not(workspace, catalog, two_projects, cli):
    code, out = cli("auto", "--yes")
    assert code == 0 and set(out) >= {"runs"}
    (run,) = out["runs"]
    assert run["project"] == "Settled" and run["deleted_count"] == 7 and run["cleanup_status"] == "complete"
    assert run["summary"].startswith("Cleanup: Deleted 7 files, freed ")
    assert not workspace.path(".cache/audio/old/scene-1.mp3").exists()
    assert workspace.path(".cache/output/old/final.mp4").exists()
    assert workspace.path(".cache/audio/new/scene-1.mp3").exists()
    (entry,) = list_runs(catalog)
    assert entry["started_by"] == "auto" and entry["projects"] == ["Settled"]
    # nothing more to do until the final output changes again
    code, out = cli("auto", "--yes")
    assert code == 0 and out["runs"] == []


def test_settle_time_is_a_preference(workspace, catalog, two_projects):
    catalog.set_pref("settle_seconds", 7200)
    assert run_auto_cleanup(catalog) == []
    later = time.time() + 7200
    runs = run_auto_cleanup(catalog, now=later)
    assert sorted(r["project"] for r in runs) == ["Fresh", "Settled"]


def test_eligibility_reasons(workspace, catalog, two_projects):
    prefs = catalog.prefs()
    now = time.time()
    fresh = check_eligibility(catalog, get_project(catalog, two_projects["new"].id), prefs, now)
    assert not fresh.eligible and "the final render changed 0 s ago; it counts once unchanged for 60 s" in fresh.reason
    settled = check_eligibility(catalog, get_project(catalog, two_projects["old"].id), prefs, now)
    assert (settled.eligible, settled.reason) == (True, "final output complete and settled")
    run_auto_cleanup(catalog, now=now)
    done = check_eligibility(catalog, get_project(catalog, two_projects["old"].id), prefs, now + 10)
    assert (done.eligible, done.reason) == (False, "already cleaned")
    set_auto_cleanup(catalog, two_projects["old"].id, "off")
    off = check_eligibility(catalog, get_project(catalog, two_projects["old"].id), prefs, now + 10)
    assert (off.eligible, off.reason) == (False, "auto-cleanup is off")


def test_a_re_rendered_final_makes_the_project_due_again(workspace, catalog, two_projects):
    run_auto_cleanup(catalog)
    workspace.media.copy("mp3", workspace.path(".cache/audio/old/scene-1.mp3"))  # the generator ran again
    workspace.render_final("old", age=-120)  # a final newer than the last cleanup ...
    later = time.time() + 600  # ... that has settled by now
    runs = run_auto_cleanup(catalog, now=later)
    assert sorted(r["project"] for r in runs if "run_id" in r) == ["Fresh", "Settled"]
    assert not workspace.path(".cache/audio/old/scene-1.mp3").exists()


def test_project_without_final_is_never_auto_cleaned(workspace, catalog, imported):
    workspace.add_project("p1", "Unrendered", final=False)
    imported()
    assert run_auto_cleanup(catalog, now=time.time() + 10**6) == []
    assert workspace.path(".cache/audio/p1/scene-1.mp3").exists()


def test_env_false_wins_over_the_catalog(workspace, catalog, two_projects, cli, monkeypatch):
    catalog.set_pref("auto_cleanup_enabled", True)
    set_auto_cleanup(catalog, two_projects["old"].id, "on")
    for value in ("false", "FALSE", "0", "off"):
        monkeypatch.setenv("AUTO_CLEANUP_ENABLED", value)
        code, out = cli("auto", "--yes")
        assert code == 0 and out["runs"] == [] and out["enabled"] is False
        code, listing = cli("project", "list")
        assert {p["auto_cleanup_effective"] for p in listing["projects"]} == {False}
    assert workspace.path(".cache/audio/old/scene-1.mp3").exists()
    assert list_runs(catalog) == []
    monkeypatch.setenv("AUTO_CLEANUP_ENABLED", "true")
    code, out = cli("auto", "--yes")
    assert [r["project"] for r in out["runs"]] == ["Settled"]


def test_global_switch_and_per_project_override(workspace, catalog, imported, cli):
    workspace.add_project("a", "Inherits", final=False)
    workspace.add_project("b", "Forced on", final=False)
    workspace.add_project("c", "Forced off", final=False)
    projects = render_after_registration(workspace, imported, {"a": 3600, "b": 3600, "c": 3600})
    set_auto_cleanup(catalog, projects["b"].id, "on")
    set_auto_cleanup(catalog, projects["c"].id, "off")

    code, _ = cli("prefs", "auto_cleanup_enabled", "false")
    assert code == 0
    code, out = cli("auto", "--yes")
    assert [r["project"] for r in out["runs"]] == ["Forced on"]

    code, _ = cli("prefs", "auto_cleanup_enabled", "true")
    code, out = cli("auto", "--yes")
    assert [r["project"] for r in out["runs"]] == ["Inherits"]
    assert workspace.path(".cache/audio/c/scene-1.mp3").exists()
    assert {r["started_by"] for r in list_runs(catalog)} == {"auto"}


def test_auto_never_raises_and_reports_a_refusal(workspace, catalog, two_projects):
    catalog.set_pref("max_delete_count", 2)
    runs = run_auto_cleanup(catalog)
    assert len(runs) == 1 and runs[0]["refused"].startswith("Refused: the plan deletes 7 files, more than the limit of 2")
    assert workspace.path(".cache/audio/old/scene-1.mp3").exists()
    assert os.path.exists(workspace.path(".cache/output/old/final.mp4"))


def test_a_project_registered_with_its_final_waits_for_its_first_review(workspace, catalog, imported, cli):
    """F2: a final that was already there at registration is not auto-cleaned until the user confirmed one
    cleanup of the project (or switched auto-cleanup on for it by hand)."""
    workspace.add_project("r", "Rendered before", final_age=3600)
    projects = imported()
    project = get_project(catalog, projects["r"].id)
    assert project.awaiting_review
    verdict = check_eligibility(catalog, project, catalog.prefs(), time.time())
    assert not verdict.eligible and verdict.reason.startswith("awaiting your first review")
    assert run_auto_cleanup(catalog, now=time.time() + 10**6) == []
    assert workspace.path(".cache/audio/r/scene-1.mp3").exists()
    # the user reviews one cleanup of it: from then on it is cleaned automatically
    code, plan = cli("clean", "Rendered before")
    code, done = cli("clean", "--plan", plan["plan_id"], "--yes")
    assert code == 0 and not workspace.path(".cache/audio/r/scene-1.mp3").exists()
    assert not get_project(catalog, project.id).awaiting_review
    workspace.add_project("r", "Rendered before", final_age=-60)  # the generator ran again, a newer final
    later = time.time() + 3600
    assert [r["project"] for r in run_auto_cleanup(catalog, now=later) if "run_id" in r] == ["Rendered before"]
    assert not workspace.path(".cache/audio/r/scene-1.mp3").exists()


def test_switching_auto_cleanup_on_by_hand_counts_as_a_review(workspace, catalog, imported):
    workspace.add_project("r", "Rendered before", final_age=3600)
    projects = imported()
    set_auto_cleanup(catalog, projects["r"].id, "on")
    assert not get_project(catalog, projects["r"].id).awaiting_review
    assert [r["project"] for r in run_auto_cleanup(catalog) if "run_id" in r] == ["Rendered before"]
