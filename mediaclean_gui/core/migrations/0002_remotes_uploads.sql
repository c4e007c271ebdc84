-- mediaclean catalog, schema 2: S3 remotes and the persistent upload queue (F3).
-- No secrets are ever stored here (invariant 10): a remote names an AWS profile,
-- an endpoint, a bucket, a prefix and a region; credentials come from boto3's chain.

CREATE TABLE remotes (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    bucket       TEXT NOT NULL,
    prefix       TEXT NOT NULL DEFAULT '',       -- key prefix, '' or ending in '/'
    endpoint_url TEXT,                           -- NULL: AWS itself
    region       TEXT,
    aws_profile  TEXT,                           -- a profile NAME from ~/.aws, never a key
    pipeline_db  BLOB,                           -- seed 004 pipeline database (F5), OS bytes
    layout       TEXT NOT NULL DEFAULT 'clips-bucket',
    created_at   TEXT NOT NULL
);

-- One row per (remote, local file): the upload queue and the proof record.
-- status: queued -> uploading -> verified -> deleted_local
--                            \-> failed (retried after next_attempt_at)
--                            \-> unverified (the store gave no proof, the local file is kept)
CREATE TABLE uploads (
    id                 INTEGER PRIMARY KEY,
    remote_id          INTEGER NOT NULL REFERENCES remotes(id) ON DELETE CASCADE,
    project_id         INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    path               BLOB NOT NULL,            -- absolute local path, OS bytes
    key                TEXT NOT NULL,            -- object key, remote prefix included
    size               INTEGER NOT NULL,         -- bytes, as hashed
    mtime_ns           INTEGER NOT NULL,         -- st_mtime_ns, as hashed
    checksum_algorithm TEXT,                     -- e.g. 'CRC32', 'CRC64NVME', 'SHA256'
    checksum           TEXT,                     -- base64, computed from the local file before upload
    etag               TEXT,
    version_id         TEXT,
    status             TEXT NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'uploading', 'verified', 'failed', 'unverified', 'deleted_local')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT,                     -- ISO-8601 UTC, NULL = now
    last_error         TEXT NOT NULL DEFAULT '',
    proof              TEXT NOT NULL DEFAULT '', -- how the store proved it holds the bytes
    claimed_by         TEXT,                     -- 'pid:thread' of the worker uploading it
    claimed_at         TEXT,
    multipart_upload_id TEXT,                    -- an unfinished multipart upload to abort
    verified_at        TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX idx_uploads_remote_path ON uploads(remote_id, path);
CREATE INDEX idx_uploads_path ON uploads(path);
CREATE INDEX idx_uploads_status ON uploads(status, next_attempt_at);

-- What an endpoint was found to do, probed once (e.g. does it reject a wrong checksum on PUT).
CREATE TABLE endpoint_probes (
    endpoint   TEXT NOT NULL,                    -- endpoint URL or 'aws:REGION'
    probe      TEXT NOT NULL,
    result     TEXT NOT NULL,                    -- JSON
    probed_at  TEXT NOT NULL,
    PRIMARY KEY (endpoint, probe)
);
