"""``mediaclean remote add|list|remove|test``: S3 remotes (credentials only from boto3's chain)."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.catalog import Catalog
from ..core.errors import ConfigError
from ..core.s3.remote import (
    add_remote,
    check_retention_days,
    get_remote,
    list_remotes,
    remove_remote,
    set_upload_retention,
    test_connection,
)
from . import Outcome, fmt


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    remote = sub.add_parser("remote", parents=[common], help="add, list, remove and test S3 remotes")
    rsub = remote.add_subparsers(dest="remote_command", metavar="ACTION")
    rsub.required = True

    add = rsub.add_parser(
        "add", parents=[common], help="register a bucket on an S3-compatible store",
        description="Register a remote. Credentials are never stored: boto3 reads them from the environment "
        "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared files in ~/.aws, or the profile named by --profile.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--bucket", required=True, metavar="B")
    add.add_argument("--prefix", default="", metavar="P", help="key prefix inside the bucket")
    add.add_argument("--endpoint-url", metavar="URL", help="S3-compatible endpoint (default: AWS)")
    add.add_argument("--profile", metavar="P", help="AWS profile name for the credentials")
    add.add_argument("--region", metavar="R")
    add.add_argument("--pipeline-db", metavar="FILE", help="the pipeline database of the bucket "
                     "(its jobs and clips decide when a job's sources go)")
    add.add_argument("--layout", default="clips-bucket", metavar="NAME",
                     help="the bucket's layout profile (default clips-bucket)")
    add.add_argument("--upload-retention-days", type=retention_days, default=None, metavar="N",
                     help=RETENTION_HELP)
    add.set_defaults(handler=cmd_add)

    setp = rsub.add_parser("set", parents=[common], help="change a setting of a remote")
    setp.add_argument("name", metavar="NAME")
    setp.add_argument("--upload-retention-days", type=retention_days, required=True, metavar="N",
                      help=RETENTION_HELP)
    setp.set_defaults(handler=cmd_set)

    lst = rsub.add_parser("list", parents=[common], help="the registered remotes")
    lst.set_defaults(handler=cmd_list)

    rm = rsub.add_parser("remove", parents=[common], help="forget a remote (nothing on the store changes)")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("--force", action="store_true", help="even while uploads to it are queued")
    rm.set_defaults(handler=cmd_remove)

    test = rsub.add_parser("test", parents=[common], help="check the bucket is reachable with the credentials")
    test.add_argument("name", metavar="NAME")
    test.set_defaults(handler=cmd_test)


RETENTION_HELP = ("how many days sweeps and lifecycle rules keep the objects mediaclean uploaded and deleted "
                  "locally (their only copy), counted from the local deletion; 'none' (the default) keeps them "
                  "forever")


def retention_days(text: str) -> int | None:
    """``--upload-retention-days``: whole days, or ``none`` for keep forever."""
    if text.strip().lower() in ("none", "forever"):
        return None
    try:
        return check_retention_days(int(text))
    except ValueError:
        raise ConfigError(f"--upload-retention-days needs a whole number of days or 'none', not '{text}'.") from None


def _retention_text(days: int | None) -> str:
    return "kept forever" if days is None else f"kept {days} day(s) after the local copy was deleted"


def cmd_add(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    remote = add_remote(
        catalog, args.name, args.bucket, prefix=args.prefix, endpoint_url=args.endpoint_url, region=args.region,
        aws_profile=args.profile, pipeline_db=args.pipeline_db, layout=args.layout,
        upload_retention_days=args.upload_retention_days,
    )
    return Outcome({"remote": remote.as_json()},
                   f"Added remote '{remote.name}': {remote.where}"
                   + (f", prefix '{remote.prefix}'" if remote.prefix else "") + ".")


def cmd_set(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    remote = set_upload_retention(catalog, args.name, args.upload_retention_days)
    return Outcome({"remote": remote.as_json()},
                   f"Remote '{remote.name}': uploaded outputs whose local copy was deleted are "
                   f"{_retention_text(remote.upload_retention_days)}.")


def cmd_list(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    remotes = list_remotes(catalog)
    rows = [[r.name, r.bucket, r.prefix, r.endpoint_url or "AWS", r.region or "", r.aws_profile or "", r.layout,
             "forever" if r.upload_retention_days is None else f"{r.upload_retention_days} d"]
            for r in remotes]
    text = fmt.table(rows, ["NAME", "BUCKET", "PREFIX", "ENDPOINT", "REGION", "PROFILE", "LAYOUT", "UPLOADS KEPT"]) \
        if remotes else "No remotes yet. Add one with 'mediaclean remote add NAME --bucket B'."
    return Outcome({"remotes": [r.as_json() for r in remotes]}, text)


def cmd_remove(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    remote = remove_remote(catalog, args.name, force=args.force)
    return Outcome({"removed": remote.name, "remote": remote.as_json()},
                   f"Removed remote '{remote.name}' (nothing on the store was changed).")


def cmd_test(args: argparse.Namespace, catalog: Catalog) -> Outcome:
    remote = get_remote(catalog, args.name)
    message = test_connection(remote)
    return Outcome({"remote": remote.as_json(), "ok": True, "message": message}, message)
