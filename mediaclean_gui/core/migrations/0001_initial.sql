-- mediaclean catalog, schema 1: projects, artifacts, preferences, plans, runs.
-- Paths are stored as BLOBs of the OS bytes (os.fsencode) so that file names
-- that are not valid UTF-8 survive the round trip exactly.

CREATE TABLE preferences (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL            -- JSON
);

CREATE TABLE projects (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL,
    root                 BLOB NOT NULL,
    profile              TEXT NOT NULL,
    external_id          TEXT,
    auto_cleanup         TEXT NOT NULL DEFAULT 'inherit'
                         CHECK (auto_cleanup IN ('inherit', 'on', 'off')),
    cleanup_status       TEXT NOT NULL DEFAULT 'pending'
                         CHECK (cleanup_status IN ('pending', 'running', 'complete', 'failed')),
    cleanup_completed_at TEXT,
    total_bytes          INTEGER NOT NULL DEFAULT 0,
    reclaimable_bytes    INTEGER NOT NULL DEFAULT 0,
    file_count           INTEGER NOT NULL DEFAULT 0,
    scanned_at           TEXT,
    source_db            BLOB,
    created_at           TEXT NOT NULL
);
CREATE INDEX idx_projects_root ON projects(root, external_id);
CREATE INDEX idx_projects_cleanup_status ON projects(cleanup_status);

CREATE TABLE role_sizes (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    files      INTEGER NOT NULL,
    PRIMARY KEY (project_id, role)
);

CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path       BLOB NOT NULL,       -- absolute, normalised
    role       TEXT NOT NULL,
    source     TEXT NOT NULL,       -- 'import' | 'user'
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX idx_artifacts_unique ON artifacts(project_id, path, role);
CREATE INDEX idx_artifacts_path ON artifacts(path);

CREATE TABLE plans (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,     -- 'clean' | 'temp' | 'orphans' | 'upload' | 'sweep'
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'ready'
                 CHECK (status IN ('building', 'ready', 'refused', 'executed')),
    summary      TEXT NOT NULL DEFAULT '',
    params       TEXT NOT NULL DEFAULT '{}',    -- JSON
    preconditions TEXT NOT NULL DEFAULT '[]',   -- JSON: files that must still exist (final outputs)
    item_count   INTEGER NOT NULL DEFAULT 0,
    total_bytes  INTEGER NOT NULL DEFAULT 0,
    kept_count   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE plan_items (
    id          INTEGER PRIMARY KEY,
    plan_id     INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    action      TEXT NOT NULL,
    target      BLOB NOT NULL,
    root        BLOB NOT NULL,
    size        INTEGER NOT NULL,
    role        TEXT NOT NULL,
    project_id  INTEGER,
    rule        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,      -- JSON
    grp         TEXT NOT NULL DEFAULT '',
    selected    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX idx_plan_items_plan ON plan_items(plan_id, seq);

CREATE TABLE plan_kept (
    id         INTEGER PRIMARY KEY,
    plan_id    INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    target     BLOB NOT NULL,
    size       INTEGER NOT NULL,
    role       TEXT NOT NULL,
    project_id INTEGER,
    reason     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    grp        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_plan_kept_plan ON plan_kept(plan_id);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    plan_id       INTEGER NOT NULL REFERENCES plans(id),
    kind          TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    started_by    TEXT NOT NULL CHECK (started_by IN ('user', 'auto', 'schedule')),
    status        TEXT NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'complete', 'failed', 'cancelled', 'interrupted')),
    mode          TEXT NOT NULL DEFAULT 'permanent',
    pid           INTEGER,
    deleted_count INTEGER NOT NULL DEFAULT 0,
    freed_bytes   INTEGER NOT NULL DEFAULT 0,
    failed_count  INTEGER NOT NULL DEFAULT 0,
    skipped_count INTEGER NOT NULL DEFAULT 0,
    summary       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_runs_status ON runs(status);

CREATE TABLE run_items (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    plan_item_id INTEGER NOT NULL REFERENCES plan_items(id) ON DELETE CASCADE,
    outcome      TEXT NOT NULL DEFAULT 'pending'
                 CHECK (outcome IN ('pending', 'deleted', 'already_gone', 'failed', 'skipped')),
    detail       TEXT NOT NULL DEFAULT '',
    freed_bytes  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, plan_item_id)
);
