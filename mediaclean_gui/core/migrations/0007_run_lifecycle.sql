-- Schema 7: one run lifecycle for every kind of run, protection by identity, the keep-list,
-- the first review of auto-cleanup, and complete finals.

-- Local plan items carry their fingerprint in integer columns (the JSON column stays for
-- object fingerprints: ETag, LastModified, size, VersionId). fp_kind: 'file', 'dir', 'link'.
ALTER TABLE plan_items ADD COLUMN fp_dev INTEGER;
ALTER TABLE plan_items ADD COLUMN fp_ino INTEGER;
ALTER TABLE plan_items ADD COLUMN fp_size INTEGER;
ALTER TABLE plan_items ADD COLUMN fp_mtime_ns INTEGER;
ALTER TABLE plan_items ADD COLUMN fp_kind TEXT;
UPDATE plan_items SET
    fp_dev = json_extract(fingerprint, '$.dev'),
    fp_ino = json_extract(fingerprint, '$.ino'),
    fp_size = json_extract(fingerprint, '$.size'),
    fp_mtime_ns = json_extract(fingerprint, '$.mtime_ns'),
    fp_kind = json_extract(fingerprint, '$.kind'),
    fingerprint = '{}'
    WHERE json_valid(fingerprint) AND json_extract(fingerprint, '$.ino') IS NOT NULL;

-- A run item may end 'trashed' (moved to a trash on the same file system: nothing freed,
-- invariant 16). SQLite cannot change a CHECK constraint in place: rebuild run_items.
CREATE TABLE run_items_v7 (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    plan_item_id INTEGER NOT NULL REFERENCES plan_items(id) ON DELETE CASCADE,
    outcome      TEXT NOT NULL DEFAULT 'pending'
                 CHECK (outcome IN ('pending', 'deleted', 'trashed', 'already_gone', 'failed', 'skipped',
                                    'uploaded')),
    detail       TEXT NOT NULL DEFAULT '',
    freed_bytes  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, plan_item_id)
);
INSERT INTO run_items_v7(run_id, plan_item_id, outcome, detail, freed_bytes)
    SELECT run_id, plan_item_id, outcome, detail, freed_bytes FROM run_items;
DROP TABLE run_items;
ALTER TABLE run_items_v7 RENAME TO run_items;
-- the items of a run by outcome (counts at the finish, the window's failed/skipped lists)
CREATE INDEX idx_run_items_outcome ON run_items(run_id, outcome);

-- Runs: what went to the trash (moved, not freed), the batch in flight (plan item seq range:
-- after a crash only that batch is checked against the disk or the store), and whether the
-- user has seen an automatic run's announcement.
ALTER TABLE runs ADD COLUMN trashed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN trashed_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN already_gone_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN in_flight_from INTEGER;
ALTER TABLE runs ADD COLUMN in_flight_to INTEGER;
ALTER TABLE runs ADD COLUMN seen_at TEXT;
UPDATE runs SET seen_at = ifnull(ended_at, started_at);

-- The keep-list (invariant 14): what the user left out of a plan, remembered and kept back as
-- "kept by you" in every later plan until put back. ``root`` is the project's root (or a temp
-- root, for temp plans, with project_id NULL); ``path`` is relative to it (POSIX, OS bytes);
-- ``pattern`` 1 means a glob on the relative path, 0 an exact path (a folder keeps all below it).
CREATE TABLE keep_list (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    root       BLOB NOT NULL,
    path       BLOB NOT NULL,
    pattern    INTEGER NOT NULL DEFAULT 0,
    note       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX idx_keep_list_unique ON keep_list(root, ifnull(project_id, 0), path, pattern);

-- F2: a project whose final output already existed when it was registered is cleaned
-- automatically only after the user confirmed one cleanup of it (reviewed_at) or switched
-- auto-cleanup on for it by hand. Projects registered before this schema count as
-- registered with their final present; a user-started cleanup that completed counts as a review.
ALTER TABLE projects ADD COLUMN final_at_registration INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN reviewed_at TEXT;
UPDATE projects SET reviewed_at = (
    SELECT max(r.ended_at) FROM runs r JOIN plan_items pi ON pi.plan_id = r.plan_id
    WHERE r.kind = 'clean' AND r.started_by = 'user' AND r.status = 'complete' AND pi.project_id = projects.id);

-- Invariant 13: what ffprobe said of a final output, by the identity of the file's version (device,
-- inode, size, mtime), so a final is probed once per version wherever it is (a rename keeps the verdict).
CREATE TABLE final_checks (
    dev        INTEGER NOT NULL,
    ino        INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    path       BLOB NOT NULL,            -- where it was last seen (for the user's information)
    complete   INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    checked_at TEXT NOT NULL,
    PRIMARY KEY (dev, ino)
);
