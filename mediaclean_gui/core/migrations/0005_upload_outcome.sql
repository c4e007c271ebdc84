-- Schema 5: a run item of an upload plan can end 'uploaded' (uploaded and verified, the local
-- copy kept because the plan did not ask to delete it). SQLite cannot change a CHECK
-- constraint in place, so run_items is rebuilt with the same columns and keys.

CREATE TABLE run_items_v5 (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    plan_item_id INTEGER NOT NULL REFERENCES plan_items(id) ON DELETE CASCADE,
    outcome      TEXT NOT NULL DEFAULT 'pending'
                 CHECK (outcome IN ('pending', 'deleted', 'already_gone', 'failed', 'skipped', 'uploaded')),
    detail       TEXT NOT NULL DEFAULT '',
    freed_bytes  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, plan_item_id)
);
INSERT INTO run_items_v5(run_id, plan_item_id, outcome, detail, freed_bytes)
    SELECT run_id, plan_item_id, outcome, detail, freed_bytes FROM run_items;
DROP TABLE run_items;
ALTER TABLE run_items_v5 RENAME TO run_items;
