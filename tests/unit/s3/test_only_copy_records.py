"""The catalog's memory of only copies (F3): migration 0008 carries what earlier versions deleted locally, the
store is compared by one spelling, and lifecycle narrowing never leaves a kept object under an expiring rule."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from importlib import resources

import pytest

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.s3.lifecycle import Kept, narrow_rules
from mediaclean_gui.core.s3.protections import PageProtections
from mediaclean_gui.core.s3.remote import add_remote, get_remote, store_id


def test_a_catalog_of_schema_6_keeps_its_uploaded_only_copies_after_the_upgrade(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for entry in sorted(resources.files("mediaclean_gui.core").joinpath("migrations").iterdir(),
                        key=lambda e: e.name):
        if entry.name.endswith(".sql") and int(entry.name[:4]) <= 6:
            conn.executescript(entry.read_text(encoding="utf-8"))
    conn.execute("INSERT INTO projects(id, name, root, profile, created_at) VALUES (1, 'mv', ?, 'mv-backend', 'x')",
                 (os.fsencode(str(tmp_path)),))
    conn.execute("INSERT INTO remotes(id, name, bucket, prefix, endpoint_url, layout, created_at) "
                 "VALUES (1, 'store', 'clips', 'gen/', 'HTTP://Store.example:9000/', 'mv-backend', 'x')")
    for n, status in enumerate(("deleted_local", "verified", "failed")):
        conn.execute("INSERT INTO uploads(remote_id, project_id, path, key, size, mtime_ns, status, created_at, "
                     "updated_at) VALUES (1, 1, ?, ?, 10, 1, ?, 'x', '2026-11-02T08:00:00Z')",
                     (os.fsencode(str(tmp_path / f"f{n}.mp4")), f"gen/mv/f{n}.mp4", status))
    conn.execute("PRAGMA user_version = 6")
    conn.commit()
    conn.close()
    catalog = Catalog(path)
    try:
        rows = catalog.conn.execute("SELECT store, bucket, key, project_name, local_deleted_at FROM only_copies"
                                    ).fetchall()
        assert [tuple(r) for r in rows] == [("http://store.example:9000", "clips", "gen/mv/f0.mp4", "mv",
                                             "2026-11-02T08:00:00Z")]
        # a second remote on the same store, spelled another way, sees it
        other = add_remote(catalog, "whole", "clips", endpoint_url="http://store.example:9000")
        found = PageProtections(catalog, other, dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)).lookup(
            [("gen/mv/f0.mp4", "gen/mv/f0.mp4"), ("gen/mv/f1.mp4", "gen/mv/f1.mp4")])
        assert {k: v.detail for k, v in found.items()} == {
            "gen/mv/f0.mp4": "only copy: uploaded from project mv, local copy deleted on 2026-11-02"}
        assert get_remote(catalog, "store").upload_retention_days is None
    finally:
        catalog.close()


@pytest.mark.parametrize("a, b, same", [
    (None, "https://s3.eu-west-1.amazonaws.com", True),
    ("http://127.0.0.1:9000/", "HTTP://127.0.0.1:9000", True),
    ("https://r2.example.com:443", "https://r2.example.com", True),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9001", False),
    ("https://minio.example.com/tenant-a", "https://minio.example.com/tenant-b", False),
])
def test_one_spelling_of_a_store(a, b, same):
    assert (store_id(a) == store_id(b)) is same


def test_narrowing_keeps_every_kept_object_out_of_every_expiring_rule():
    tree = {  # what a Delimiter='/' listing answers per full prefix: (folders, direct objects)
        "gen/": (["gen/mv/", "gen/scratch/"], 0),
        "gen/mv/": (["gen/mv/jobs/", "gen/mv/renders/"], 1),
        "gen/mv/jobs/": (["gen/mv/jobs/v1/", "gen/mv/jobs/v2/"], 0),
    }
    kept = Kept(frozenset({"gen/mv/jobs/v1/video.mp4"}),
                {"gen/mv/jobs/v1/video.mp4": "only copies of uploaded outputs"})
    rules = [{"ID": "mediaclean-temp-mv", "Filter": {"Prefix": "gen/mv/"}, "Status": "Enabled",
              "Expiration": {"Days": 1}},
             {"ID": "mediaclean-temp-scratch", "Filter": {"Prefix": "gen/scratch/"}, "Status": "Enabled",
              "Expiration": {"Days": 1}},
             {"ID": "mediaclean-abort", "Filter": {"Prefix": "gen/"}, "Status": "Enabled",
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]
    out, cannot = narrow_rules(rules, kept, lambda prefix: tree.get(prefix, ([], 0)))
    prefixes = {r["Filter"]["Prefix"]: r["ID"] for r in out}
    assert prefixes == {"gen/mv/renders/": "mediaclean-temp-mv-renders",
                        "gen/mv/jobs/v2/": "mediaclean-temp-mv-jobs_v2",
                        "gen/scratch/": "mediaclean-temp-scratch", "gen/": "mediaclean-abort"}
    assert cannot == ["'gen/mv/' holds 1 only copies of uploaded outputs, which no rule may expire: its rule is "
                      "narrowed to 2 folder(s) without them; objects directly in 'gen/mv/' get no rule; folders "
                      "created there later get none either (the sweep still applies the policy)."]
    for rule in out:
        if "Expiration" in rule:
            assert not kept.under(rule["Filter"]["Prefix"])
