"""The sweep's listing in parallel over the prefix's top-level folders, against SeaweedFS and moto: exactly the
objects, in exactly the order, of one plain listing (the store's own order), for objects at the top, in several
folders, under odd names; one plain listing where the order could differ or nothing is gained; requests at the
minimum plus the one delimiter page; and a plan the same as a plan made from a plain listing."""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import time
from typing import Any

import pytest
from sweep_data import fast_client, put_many

from mediaclean_gui.core.catalog import Catalog
from mediaclean_gui.core.plan import iter_items, iter_kept
from mediaclean_gui.core.s3 import listing, sweep
from mediaclean_gui.core.s3.remote import add_remote, get_remote

pytestmark = pytest.mark.s3

PAGE = 7  # small pages: several per folder, so the order across pages and threads is exercised

ODD_NAMES = ["a b.mp4", "caf\u00e9 \u65e5\u672c.mp4", "take+2%20&<x>'q\".mp4", "~tilde.mp4", "\U0001f3ac.mp4"]


def keys_for(folders: dict[str, int], top: list[str], prefix: str = "") -> list[str]:
    keys = [prefix + name for name in top]
    for folder, count in folders.items():
        keys += [f"{prefix}{folder}/job-{i % 3}/{i:03d}-{ODD_NAMES[i % len(ODD_NAMES)]}" for i in range(count)]
    return keys


def fill(s3: Any, bucket: str, keys: list[str]) -> None:
    put_many(fast_client(s3), bucket, [(k, b"x") for k in keys])


def remote_for(catalog: Catalog, s3: Any, bucket: str, prefix: str = "") -> Any:
    add_remote(catalog, "r", bucket, prefix=prefix, endpoint_url=s3.endpoint_url, region=s3.region)
    return get_remote(catalog, "r")


def plain(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    """One plain paginated listing by a stock client: the store's own order."""
    out: list[str] = []
    for page in s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix,
                                                                        PaginationConfig={"PageSize": PAGE}):
        out += [o["Key"] for o in page.get("Contents", ())]
    return out


def listed(remote: Any, **options: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """What :func:`listing.list_objects` lists, and its requests as ``(Prefix, Delimiter)``."""
    client = listing.sweep_client(remote)
    calls: list[tuple[str, str]] = []
    client.meta.events.register("before-parameter-build.s3.ListObjectsV2",
                                lambda params, **_: calls.append((params.get("Prefix", ""),
                                                                  params.get("Delimiter", ""))))
    keys = [o.key for page in listing.list_objects(client, remote, page_size=PAGE, **options) for o in page]
    return keys, calls


@pytest.mark.parametrize("prefix", ["", "media/"], ids=["bucket", "prefix"])
def test_parallel_listing_is_the_plain_listing(s3_env, bucket, catalog, prefix):
    folders = {"audio": 9, "clips": 23, "uploads": 15, "z\u00e9": 4}
    keys = keys_for(folders, ["0-first.txt", "b top.txt", "clipsA.json", "readme.txt", "zz+%.txt"], prefix)
    fill(s3_env, bucket, keys + ["elsewhere/not-under-the-prefix.mp4"] * bool(prefix))
    remote = remote_for(catalog, s3_env, bucket, prefix)
    got, calls = listed(remote)
    assert got == plain(s3_env, bucket, prefix)
    assert sorted(got) == sorted(keys)
    # one delimiter page, then each folder on its own: its pages and nothing else
    assert calls[0] == (prefix, "/")
    assert sorted(calls[1:]) == sorted((f"{prefix}{f}/", "") for f, n in folders.items()
                                       for _ in range(math.ceil(n / PAGE)))


@pytest.mark.parametrize("top", [["clips.json"], ["clips-v2/a.mp4"], ["clips"], ["clips copy.mp4"]],
                         ids=["dot", "dash-folder", "same-name", "space"])
def test_a_name_that_sorts_between_a_folder_and_its_keys_gives_one_plain_listing(s3_env, bucket, catalog, top):
    """SeaweedFS lists ``clips/`` before ``clips.json``, byte order after it: no merge order fits both stores."""
    keys = keys_for({"clips": 10, "uploads": 5}, top)
    fill(s3_env, bucket, keys)
    remote = remote_for(catalog, s3_env, bucket)
    got, calls = listed(remote)
    assert got == plain(s3_env, bucket)
    assert sorted(got) == sorted(keys)
    assert calls[0] == ("", "/") and set(calls[1:]) == {("", "")}
    assert len(calls) == 1 + math.ceil(len(keys) / PAGE)


def test_one_folder_works_and_everything_at_the_top_costs_one_request(s3_env, bucket, catalog):
    fill(s3_env, bucket, keys_for({"clips": 12}, ["top.txt"]))
    remote = remote_for(catalog, s3_env, bucket)
    got, calls = listed(remote)
    assert got == plain(s3_env, bucket) and len(got) == 13
    assert calls[0] == ("", "/") and set(calls[1:]) == {("", "")}

    flat = s3_env.new_bucket()
    try:
        fill(s3_env, flat, [f"file-{i}.txt" for i in range(PAGE - 2)])
        with Catalog(catalog.path.parent / "flat.sqlite3") as other:
            remote = remote_for(other, s3_env, flat)
            got, calls = listed(remote)
        assert got == plain(s3_env, flat) and len(got) == PAGE - 2
        assert calls == [("", "/")]  # that delimiter page was the whole listing
    finally:
        s3_env.client().delete_objects(Bucket=flat, Delete={"Objects": [{"Key": k} for k in plain(s3_env, flat)]})
        s3_env.client().delete_bucket(Bucket=flat)


def test_many_small_folders_give_one_plain_listing(s3_env, bucket, catalog):
    """Each folder listed on its own may cost a part-filled page: beyond MAX_FOLDERS that is not worth it."""
    keys = [f"f{i:02d}/a.mp4" for i in range(listing.MAX_FOLDERS + 1)]
    fill(s3_env, bucket, keys)
    got, calls = listed(remote_for(catalog, s3_env, bucket))
    assert got == plain(s3_env, bucket) and sorted(got) == keys
    assert calls == [("", "/")] + [("", "")] * math.ceil(len(keys) / PAGE)


def test_closing_the_listing_early_stops_its_threads(s3_env, bucket, catalog):
    fill(s3_env, bucket, keys_for({"a": 30, "b": 30, "c": 30, "d": 30, "e": 30}, []))
    remote = remote_for(catalog, s3_env, bucket)
    pages = listing.list_objects(listing.sweep_client(remote), remote, page_size=2)
    first = next(pages)
    assert [o.key for o in first] == plain(s3_env, bucket)[:2]
    pages.close()
    deadline = time.monotonic() + 10
    while any(t.name == "mediaclean-list" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "mediaclean-list"]


def test_a_plan_from_the_parallel_listing_is_the_plan_from_a_plain_one(s3_env, bucket, catalog, monkeypatch):
    """Same items, same order (seq), same fingerprints and groups; same kept-back objects."""
    keys = keys_for({"audio": 20, "clips": 40, "uploads": 20}, ["notes.txt", "x-top.bin"])
    fill(s3_env, bucket, keys)
    remote_for(catalog, s3_env, bucket)
    as_of = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)  # clips kept (5 days), the rest goes

    def plan(**options: Any) -> tuple[list[tuple], list[tuple]]:
        with monkeypatch.context() as patch:
            patch.setattr(sweep, "list_objects", functools.partial(listing.list_objects, page_size=PAGE, **options))
            plan_id = sweep.plan_sweep(catalog, "r", as_of=as_of)
        items = [(i.target, i.size, i.fingerprint, i.group, i.rule) for i in iter_items(catalog, plan_id)]
        kept = [(k.target, k.reason, k.detail, k.group) for k in iter_kept(catalog, plan_id)]
        return items, kept

    parallel, plain_plan = plan(), plan(prefetch=False)
    assert parallel == plain_plan
    assert len(parallel[0]) == 40 + 2 and len(parallel[1]) == 40
    assert [t for t, *_ in parallel[0]] == [k for k in plain(s3_env, bucket) if not k.startswith("clips/")]
