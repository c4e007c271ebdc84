-- Schema 6: the window pages the groups of large plans (a sweep can hold 100,000+ items):
-- one group's items in plan order, and one group's kept-back items, each a page at a time.

CREATE INDEX idx_plan_items_group ON plan_items(plan_id, grp, seq);
CREATE INDEX idx_plan_kept_group ON plan_kept(plan_id, grp, id);
