"""Remotes in the catalog and botocore errors turned into one sentence (no server needed)."""

from __future__ import annotations

import pytest
from botocore import exceptions as bx

from mediaclean_gui.core.errors import ConfigError
from mediaclean_gui.core.s3.remote import Remote, add_remote, explain_s3_error, get_remote, list_remotes, \
    normalise_prefix, remove_remote


def _remote(profile: str | None = None) -> Remote:
    return Remote(1, "clips", "clips-bucket", "", "http://127.0.0.1:9", None, profile, None, "clips-bucket", "x")


def _client_error(code: str, op: str = "PutObject", status: int = 400) -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                          op)


@pytest.mark.parametrize("exc, start, retryable", [
    (_client_error("InvalidAccessKeyId", status=403),
     "Upload failed: the store rejected the credentials for bucket 'clips-bucket' (check AWS_ACCESS_KEY_ID/"
     "AWS_SECRET_ACCESS_KEY or the remote's profile).", False),
    (_client_error("SignatureDoesNotMatch", status=403), "Upload failed: the store rejected the credentials", False),
    (_client_error("NoSuchBucket", status=404),
     "Upload failed: the bucket 'clips-bucket' at http://127.0.0.1:9 does not exist", False),
    (_client_error("404", "HeadBucket", 404), "Upload failed: the bucket 'clips-bucket' at http://127.0.0.1:9 does "
                                              "not exist", False),
    (_client_error("AccessDenied", status=403), "Upload failed: access denied to bucket 'clips-bucket'", False),
    (_client_error("SlowDown", status=503), "Upload failed: the store is busy or failing (SlowDown: m)", True),
    (_client_error("InternalError", status=500), "Upload failed: the store is busy or failing", True),
    (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
     "Upload failed: cannot reach the store at http://127.0.0.1:9", True),
    (bx.NoCredentialsError(), "Upload failed: no credentials found for bucket 'clips-bucket'", False),
])
def test_explained_errors(exc, start, retryable):
    err = explain_s3_error(exc, _remote(), "Upload")
    assert err.message.startswith(start)
    assert err.retryable is retryable
    assert err.exit_code == 2
    assert "\n" not in err.message


def test_a_named_profile_is_what_to_check():
    err = explain_s3_error(_client_error("InvalidAccessKeyId"), _remote("studio"), "Upload")
    assert err.message.endswith("(check the profile 'studio').")


def test_remote_records_hold_no_secrets_and_normalise(catalog):
    remote = add_remote(catalog, "clips", "clips-bucket", prefix="/a/b/", endpoint_url="https://s3.example.com/",
                        region="eu-west-1", aws_profile="studio")
    assert remote.prefix == "a/b/" and remote.endpoint_url == "https://s3.example.com"
    assert remote.key_for("c.mp4") == "a/b/c.mp4"
    assert get_remote(catalog, "clips") == remote == get_remote(catalog, remote.id)
    assert [r.name for r in list_remotes(catalog)] == ["clips"]
    columns = [r[1] for r in catalog.conn.execute("PRAGMA table_info(remotes)")]
    assert not any("secret" in c or "key_id" in c or "password" in c for c in columns)
    assert normalise_prefix("") == "" and normalise_prefix("x") == "x/"


def test_remove_refuses_while_uploads_are_queued(catalog):
    remote = add_remote(catalog, "clips", "clips-bucket")
    catalog.conn.execute("INSERT INTO uploads(remote_id, path, key, size, mtime_ns, created_at, updated_at) "
                         "VALUES (?, x'2f61', 'a', 1, 1, 'x', 'x')", (remote.id,))
    with pytest.raises(ConfigError) as info:
        remove_remote(catalog, "clips")
    assert "still has 1 upload(s) queued or not verified" in str(info.value)
    remove_remote(catalog, "clips", force=True)
    assert list_remotes(catalog) == []
    assert catalog.conn.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0


def test_schema_5_keeps_run_items_and_accepts_uploaded(catalog):
    columns = [r[1] for r in catalog.conn.execute("PRAGMA table_info(run_items)")]
    assert columns == ["run_id", "plan_item_id", "outcome", "detail", "freed_bytes"]
    sql = catalog.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'run_items'").fetchone()[0]
    assert "'uploaded'" in sql and "REFERENCES plan_items(id) ON DELETE CASCADE" in sql


def test_schema_5_migration_keeps_existing_run_items(tmp_path):
    import sqlite3

    from mediaclean_gui.core import catalog as cat_mod

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    for version, _name, sql in cat_mod._migrations():
        if version > 4:
            break
        for statement in cat_mod._split_sql(sql):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO plans(id, kind, created_at) VALUES (1, 'clean', 'x')")
    db.execute("INSERT INTO plan_items(id, plan_id, seq, action, target, root, size, role, rule, fingerprint) "
               "VALUES (7, 1, 0, 'delete_file', x'2f61', x'2f', 5, 'intermediate', 'r', '{}')")
    db.execute("INSERT INTO runs(id, plan_id, kind, started_at, started_by) VALUES (3, 1, 'clean', 'x', 'user')")
    db.execute("INSERT INTO run_items VALUES (3, 7, 'deleted', 'gone', 5)")
    db.close()
    catalog = cat_mod.Catalog(path)
    try:
        assert catalog.schema_version >= 5
        rows = catalog.conn.execute("SELECT * FROM run_items").fetchall()
        assert [tuple(r) for r in rows] == [(3, 7, "deleted", "gone", 5)]
        catalog.conn.execute("UPDATE run_items SET outcome = 'uploaded' WHERE run_id = 3")
        catalog.conn.execute("DELETE FROM runs WHERE id = 3")  # the cascade to run_items still works
        assert catalog.conn.execute("SELECT count(*) FROM run_items").fetchone()[0] == 0
    finally:
        catalog.close()
