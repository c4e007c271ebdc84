-- mediaclean catalog, schema 3: S3 retention sweeps (F4, F5).
-- Object keys here are RELATIVE to the remote's prefix (like the pipeline database's keys).

-- Objects a user marked protected: a sweep keeps them whatever their age (SPEC F4).
-- Uploaded final outputs and thumbnails (uploads rows whose local path is a final or
-- thumbnail artifact) are protected too, without a row here.
CREATE TABLE object_protections (
    remote_id  INTEGER NOT NULL REFERENCES remotes(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (remote_id, key)
);

-- The last picture of a bucket's usage by top-level prefix and age, taken by a sweep
-- preview or a usage listing. One snapshot per remote (replaced as a whole).
CREATE TABLE bucket_usage (
    remote_id  INTEGER NOT NULL REFERENCES remotes(id) ON DELETE CASCADE,
    taken_at   TEXT NOT NULL,     -- when the listing ran (UTC ISO-8601)
    as_of      TEXT NOT NULL,     -- the instant ages were measured from
    prefix     TEXT NOT NULL,     -- top-level folder under the remote prefix, e.g. 'clips/', or '' for the top level
    age_bucket TEXT NOT NULL,
    objects    INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    PRIMARY KEY (remote_id, prefix, age_bucket)
);
