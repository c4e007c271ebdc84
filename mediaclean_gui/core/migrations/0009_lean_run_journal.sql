-- Schema 9: the run journal keeps one index, its primary key (run_id, plan_item_id).
-- idx_run_items_outcome was moved by every item's outcome as a run settled it: starting and
-- settling 100,000 items took ~0.16 s more with it inside a real clean (~0.6 s more in fresh
-- tables). Every query by outcome names the run, so it reads that run's rows by the primary key
-- (a few milliseconds per 100,000 items), and the paged ones page by plan_item_id in key order.
DROP INDEX IF EXISTS idx_run_items_outcome;
