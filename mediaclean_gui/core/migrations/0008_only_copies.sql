-- Schema 8: the bucket knows its only copies (F3).
-- An object mediaclean uploaded and whose local copy it then deleted is the only copy left.
-- It is remembered by the store, bucket and full object key (not by the remote: any remote
-- pointing at the same place must keep it), and outlives the upload queue row and the remote.
-- A remote may let such objects go after upload_retention_days (NULL: keep them forever).

ALTER TABLE remotes ADD COLUMN upload_retention_days INTEGER;  -- NULL = keep uploaded only copies forever

CREATE TABLE only_copies (
    store              TEXT NOT NULL,            -- the endpoint as core.s3.remote.store_id spells it ('aws' for AWS)
    bucket             TEXT NOT NULL,
    key                TEXT NOT NULL,            -- full object key, remote prefix included
    remote_id          INTEGER,                  -- the remote it was uploaded with (no foreign key: outlives it)
    project_id         INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    project_name       TEXT NOT NULL DEFAULT '', -- as it was named then (the project may be removed later)
    path               BLOB NOT NULL,            -- the local file that was deleted, OS bytes
    size               INTEGER NOT NULL,         -- bytes
    checksum_algorithm TEXT,
    checksum           TEXT,
    etag               TEXT,
    version_id         TEXT,
    local_deleted_at   TEXT NOT NULL,            -- ISO-8601 UTC
    PRIMARY KEY (store, bucket, key)
);

-- What earlier versions already deleted locally (their store id spelled the simple way).
INSERT OR IGNORE INTO only_copies(store, bucket, key, remote_id, project_id, project_name, path, size,
                                  checksum_algorithm, checksum, etag, version_id, local_deleted_at)
    SELECT CASE WHEN r.endpoint_url IS NULL THEN 'aws' ELSE lower(rtrim(r.endpoint_url, '/')) END,
           r.bucket, u.key, r.id, u.project_id, ifnull(p.name, ''), u.path, u.size,
           u.checksum_algorithm, u.checksum, u.etag, u.version_id, u.updated_at
    FROM uploads u JOIN remotes r ON r.id = u.remote_id LEFT JOIN projects p ON p.id = u.project_id
    WHERE u.status = 'deleted_local';

-- Look-ups by object key (the sweep asks per listed page).
CREATE INDEX idx_uploads_key ON uploads(key);
