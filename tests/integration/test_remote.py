"""Remotes against the real SeaweedFS: add/list/remove/test, and one-sentence errors."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from mediaclean_gui.core.s3.remote import S3Error, add_remote, get_remote, make_client, test_connection

pytestmark = pytest.mark.s3


def test_remote_add_list_test_remove(cli, s3_env, bucket, catalog_path):
    code, out = cli("remote", "add", "clips", "--bucket", bucket, "--prefix", "/media/gen", "--endpoint-url",
                    s3_env.endpoint_url + "/", "--region", "us-east-1", "--layout", "mv-backend")
    assert code == 0
    assert out["remote"]["prefix"] == "media/gen/"
    assert out["remote"]["endpoint_url"] == s3_env.endpoint_url
    assert out["remote"]["layout"] == "mv-backend"
    code, out = cli("remote", "list")
    assert [r["name"] for r in out["remotes"]] == ["clips"]
    code, out = cli("remote", "test", "clips")
    assert code == 0, out
    assert out["message"] == f"Connected to bucket '{bucket}' at {s3_env.endpoint_url} under 'media/gen/' " \
                             f"(versioning Unversioned)."
    # invariant 10: no secret anywhere in the catalog file
    raw = catalog_path.read_bytes() + (catalog_path.with_name(catalog_path.name + "-wal").read_bytes()
                                       if catalog_path.with_name(catalog_path.name + "-wal").exists() else b"")
    assert s3_env.secret_key.encode() not in raw
    assert s3_env.access_key.encode() not in raw
    code, out = cli("remote", "remove", "clips")
    assert code == 0 and out["removed"] == "clips"
    code, out = cli("remote", "test", "clips")
    assert code == 2
    assert "No remote named 'clips'" in out["error"]


@pytest.mark.seaweedfs_only("moto accepts any credentials")
def test_wrong_secret_is_one_sentence(cli, s3_env, bucket, monkeypatch):
    cli("remote", "add", "r", "--bucket", bucket, "--endpoint-url", s3_env.endpoint_url)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    code, out = cli("remote", "test", "r")
    assert code == 2
    assert out["error"] == (f"Connection test failed: the store rejected the credentials for bucket '{bucket}' "
                            f"(check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the remote's profile).")


def test_missing_bucket_is_one_sentence(cli, s3_env):
    cli("remote", "add", "r", "--bucket", "no-such-bucket-here", "--endpoint-url", s3_env.endpoint_url)
    code, out = cli("remote", "test", "r")
    assert code == 2
    assert out["error"].startswith(
        f"Connection test failed: the bucket 'no-such-bucket-here' at {s3_env.endpoint_url} does not exist")


def test_no_credentials_is_one_sentence(catalog, s3_env, bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    remote = add_remote(catalog, "r", bucket, endpoint_url=s3_env.endpoint_url)
    with pytest.raises(S3Error) as info:
        test_connection(remote)
    assert info.value.message.startswith(f"Connection test failed: no credentials found for bucket '{bucket}'")


def test_unreachable_endpoint_is_one_sentence(catalog, s3_env, bucket):
    from s3_server import free_ports

    port = free_ports(1)[0]
    remote = add_remote(catalog, "r", bucket, endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(S3Error) as info:
        test_connection(remote)
    assert info.value.message.startswith(f"Connection test failed: cannot reach the store at http://127.0.0.1:{port}")
    assert info.value.retryable


def test_unknown_profile_is_one_sentence(catalog, s3_env, bucket):
    remote = add_remote(catalog, "r", bucket, endpoint_url=s3_env.endpoint_url, aws_profile="nobody-here")
    with pytest.raises(S3Error) as info:
        make_client(remote)
    assert "The AWS profile 'nobody-here' named by the remote 'r'" in info.value.message


def test_profile_credentials_from_shared_file(catalog, s3_env, bucket, monkeypatch, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text(f"[store]\naws_access_key_id = {s3_env.access_key}\n"
                     f"aws_secret_access_key = {s3_env.secret_key}\n", encoding="utf-8")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-in-env")  # a named profile wins over the environment
    remote = add_remote(catalog, "r", bucket, endpoint_url=s3_env.endpoint_url, aws_profile="store")
    assert test_connection(remote).startswith(f"Connected to bucket '{bucket}'")


def test_add_refuses_credentials_in_url_and_duplicates(cli, catalog_path):
    code, out = cli("remote", "add", "r", "--bucket", "b-ok", "--endpoint-url", "http://key:secret@127.0.0.1:9")
    assert code == 2
    assert "must not contain credentials" in out["error"]
    code, out = cli("remote", "add", "r", "--bucket", "b-ok")
    assert code == 0
    code, out = cli("remote", "add", "r", "--bucket", "b-ok")
    assert code == 2 and "already exists" in out["error"]
    code, out = cli("remote", "add", "x", "--bucket", "B_bad!")
    assert code == 2 and "not a valid bucket name" in out["error"]
    code, out = cli("remote", "add", "y", "--bucket", "b-ok", "--layout", "nope")
    assert code == 2 and "No profile named 'nope'" in out["error"]
    with closing(sqlite3.connect(catalog_path)) as db:
        assert db.execute("SELECT count(*) FROM remotes").fetchone()[0] == 1


def test_pipeline_db_is_stored_as_path(catalog, tmp_path):
    db = tmp_path / "pipe.db"
    sqlite3.connect(db).close()
    remote = add_remote(catalog, "r", "bucket-a", pipeline_db=db)
    assert get_remote(catalog, "r").pipeline_db == str(db)
    assert remote.key_for("clips/a.mp4") == "clips/a.mp4"
