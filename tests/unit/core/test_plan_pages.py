"""Paged reads of a stored plan (the window's preview of large plans) and the total line's words per kind."""

from __future__ import annotations

from mediaclean_gui.core.plan import (
    Action,
    KeptBack,
    PlanBuilder,
    PlanItem,
    Reason,
    group_items_page,
    kept_groups,
    kept_page,
    load_plan,
    set_group_selected,
    total_line,
)


def _sweep_plan(catalog, n: int = 2500) -> int:
    builder = PlanBuilder(catalog, "sweep", {}, batch=700)
    for i in range(n):
        group = "clips/ · older than 5 days" if i % 3 else "uploads/ · temporary, older than 24 h"
        builder.add(PlanItem(Action.DELETE_OBJECT, f"k/{i:05d}", 10, "output", "old", {"etag": str(i)},
                             group=group))
        if i % 10 == 0:
            builder.keep(KeptBack(f"keep/{i:05d}", Reason.TOO_NEW if i % 20 else Reason.PROTECTED, 7,
                                  group="clips/ · newer than the retention period" if i % 20 else "clips/ · protected"))
    return builder.finish()


def test_group_pages_cover_the_group_in_order_without_overlap(catalog):
    plan_id = _sweep_plan(catalog)
    seen: list[str] = []
    cursor = -1
    while True:
        page = group_items_page(catalog, plan_id, "clips/ · older than 5 days", cursor, 400)
        if not page.rows:
            assert page.cursor == cursor
            break
        assert len(page.rows) <= 400
        seen += [i.target for i in page.rows]
        cursor = page.cursor
    expected = [f"k/{i:05d}" for i in range(2500) if i % 3]
    assert seen == expected
    assert all(i.group == "clips/ · older than 5 days" for i in group_items_page(catalog, plan_id,
                                                                                "clips/ · older than 5 days").rows)
    plan_query = catalog.conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM plan_items WHERE plan_id = ? AND grp = ? AND seq > ? ORDER BY seq LIMIT ?",
        (plan_id, "x", -1, 10)).fetchall()
    assert "idx_plan_items_group" in " ".join(str(tuple(r)) for r in plan_query)


def test_kept_pages_and_groups_name_reasons_with_counts(catalog):
    plan_id = _sweep_plan(catalog)
    groups = kept_groups(catalog, plan_id)
    assert [(g, n, b) for g, n, b, _ in groups] == [("clips/ · protected", 125, 875),
                                                   ("clips/ · newer than the retention period", 125, 875)]
    assert groups[1][3] == "newer than the retention period (125)"
    first = kept_page(catalog, plan_id, "clips/ · protected", limit=100)
    rest = kept_page(catalog, plan_id, "clips/ · protected", first.cursor, 100)
    assert len(first.rows) == 100 and len(rest.rows) == 25
    assert {k.reason for k in first.rows + rest.rows} == {Reason.PROTECTED}
    assert len(kept_page(catalog, plan_id, None, limit=1000).rows) == 250


def test_group_selection_and_total_lines_per_kind(catalog):
    plan_id = _sweep_plan(catalog, 30)
    assert set_group_selected(catalog, plan_id, "uploads/ · temporary, older than 24 h", False) == 10
    assert set_group_selected(catalog, plan_id, "uploads/ · temporary, older than 24 h", False) == 0
    plan = load_plan(catalog, plan_id)
    assert plan.total_line() == "Will delete 20 objects · 200 Bytes · 3 kept"
    assert total_line([], 3, "sweep") == "Will delete 0 objects · 0 Bytes · 3 kept"
    upload = [PlanItem(Action.UPLOAD_THEN_DELETE, "/a/b.mp4", 1500, "output", "s3://b/k", {})]
    assert total_line(upload, 1) == "Will upload 1 file · 1.5 kB · 1 kept"
    assert total_line([], 0, "upload") == "Will upload 0 files · 0 Bytes · 0 kept"
    local = [PlanItem(Action.DELETE_FILE, "/a/x", 1200, "intermediate", "r", {}),
             PlanItem(Action.DELETE_DIR, "/a", 0, "intermediate", "r", {})]
    assert total_line(local, 3, "clean") == "Will delete 1 file · 1.2 kB · 3 kept"


def test_a_plan_is_made_without_waiting_for_the_disk_and_the_setting_comes_back(catalog):
    """Planning commits with ``synchronous = NORMAL`` (a run's first commit makes the plan durable); once
    the plan is finished or abandoned, the connection waits for the disk again as before."""
    conn = catalog.conn
    conn.execute("PRAGMA synchronous = FULL")
    builder = PlanBuilder(catalog, "sweep", {})
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    builder.add(PlanItem(Action.DELETE_OBJECT, "k/1", 10, "output", "old", {"etag": "1"}))
    plan_id = builder.finish()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert load_plan(catalog, plan_id).items

    abandoned = PlanBuilder(catalog, "sweep", {})
    abandoned.add(PlanItem(Action.DELETE_OBJECT, "k/2", 10, "output", "old", {"etag": "2"}))
    abandoned.flush()
    abandoned.abandon()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM plans WHERE id = ?", (abandoned.plan_id,)).fetchone()[0] == 0
