-- Schema 4: the scheduler (periodic jobs, missed runs, notifications), the temp roots
-- the temp sweep visits, and restores of trash-mode runs.

-- One row per periodic job (auto, temp, orphans, sweep). Times are ISO-8601 UTC.
-- The next run is due at last_run_at + the job's interval preference.
CREATE TABLE schedule (
    job          TEXT PRIMARY KEY,
    last_run_at  TEXT,
    next_due_at  TEXT,
    last_status  TEXT NOT NULL DEFAULT '',
    last_summary TEXT NOT NULL DEFAULT '',
    missed_at    TEXT,
    missed_count INTEGER NOT NULL DEFAULT 0
);

-- What the scheduler did and what it should tell the user: one row per job run
-- and per missed run. detail holds the job report as JSON.
CREATE TABLE schedule_events (
    id      INTEGER PRIMARY KEY,
    job     TEXT NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('run', 'missed', 'error')),
    summary TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}',
    seen    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_schedule_events_at ON schedule_events(id DESC);

-- Temp roots (render back ends' temp folders, seed 003) the scheduled temp sweep visits.
CREATE TABLE temp_roots (
    root     BLOB PRIMARY KEY,
    added_at TEXT NOT NULL
);

-- Restores of trash-mode runs: what came back from the trash.
CREATE TABLE restores (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    restored_at    TEXT NOT NULL,
    restored_count INTEGER NOT NULL DEFAULT 0,
    restored_bytes INTEGER NOT NULL DEFAULT 0,
    conflict_count INTEGER NOT NULL DEFAULT 0,
    missing_count  INTEGER NOT NULL DEFAULT 0,
    failed_count   INTEGER NOT NULL DEFAULT 0,
    summary        TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX idx_restores_run ON restores(run_id);
