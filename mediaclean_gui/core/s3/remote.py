"""S3 remotes: the catalog records (no secrets), boto3 clients from the standard chain, one-sentence errors."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..catalog import Catalog, from_db_path, iso, to_db_path
from ..errors import ConfigError, KnownError, NotFound
from ..profiles import get_profile


class S3Error(KnownError):
    """A store or connection failure explained in one sentence (DESIGN "Errors").

    ``code`` is the S3 error code (``InvalidAccessKeyId``, ``NoSuchBucket``,
    ``SlowDown``…) or a connection kind (``EndpointConnectionError``);
    ``retryable`` says whether trying again later may help (throttling, 5xx,
    network) as opposed to a configuration problem (credentials, bucket).
    """

    exit_code = 2

    def __init__(self, message: str, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Remote:
    """A bucket (and key prefix) on an S3-compatible store.

    Credentials are never part of it (invariant 10): boto3's standard chain
    supplies them (environment, shared files, the named ``aws_profile``).
    ``prefix`` is ``""`` or ends in ``/``; ``pipeline_db`` is a local path to
    the seed 004 pipeline database (F5) or ``None``; ``layout`` the name of the
    bucket's layout profile (default ``clips-bucket``).
    """

    id: int
    name: str
    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str | None
    aws_profile: str | None
    pipeline_db: str | None
    layout: str
    created_at: str
    upload_retention_days: int | None = None

    def key_for(self, relative_key: str) -> str:
        """The full object key for a key relative to the remote's prefix."""
        return self.prefix + relative_key.lstrip("/")

    @property
    def endpoint_id(self) -> str:
        """What identifies the store for per-endpoint facts (probes): the URL, or ``aws:REGION``."""
        return self.endpoint_url or f"aws:{self.region or 'default'}"

    @property
    def store(self) -> str:
        """The store this remote's bucket lives in, spelled one way (:func:`store_id`): two remotes
        with the same ``store`` and ``bucket`` see the same objects, whatever their prefixes."""
        return store_id(self.endpoint_url)

    @property
    def where(self) -> str:
        """``bucket 'x' at http://…`` for messages."""
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"bucket '{self.bucket}'{at}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "profile": self.aws_profile,
            "pipeline_db": self.pipeline_db,
            "layout": self.layout,
            "created_at": self.created_at,
            "upload_retention_days": self.upload_retention_days,
        }


def store_id(endpoint_url: str | None) -> str:
    """One spelling of an S3 endpoint, so remotes that reach the same store compare equal:
    ``aws`` for AWS itself (no endpoint URL, or any ``*.amazonaws.com`` host: bucket names
    are global there), otherwise ``scheme://host[:port]/path`` in lower case without a
    default port or a trailing slash."""
    if not endpoint_url:
        return "aws"
    parts = urlsplit(endpoint_url.strip())
    host = (parts.hostname or "").lower()
    if host == "amazonaws.com" or host.endswith(".amazonaws.com"):
        return "aws"
    scheme = parts.scheme.lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path}".rstrip("/")


#: ``update_remote``'s default for settings the caller does not give: keep what is stored.
KEEP = object()


def check_retention_days(days: object) -> int | None:
    """``upload_retention_days`` as stored: ``None`` (keep uploaded only copies forever) or whole days
    from 0 to 36,500. Raises :class:`ConfigError` for anything else."""
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 36500:
        raise ConfigError(f"The retention of uploaded outputs must be a whole number of days from 0 to 36500, "
                          f"not {days!r} (or none, to keep them forever).")
    return days


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,254}[a-z0-9]$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")


def _row(row: Any) -> Remote:
    values = dict(row)
    values["pipeline_db"] = from_db_path(values["pipeline_db"]) if values["pipeline_db"] is not None else None
    return Remote(**values)


def normalise_prefix(prefix: str | None) -> str:
    """``""`` or ``a/b/``: no leading slash, one trailing slash."""
    text = (prefix or "").strip().strip("/")
    return f"{text}/" if text else ""


def _check_endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"The endpoint URL '{url}' is not an http:// or https:// address of an S3-compatible store.")
    if parts.username or parts.password:
        raise ConfigError(
            "The endpoint URL must not contain credentials; mediaclean never stores secrets. Put the keys in "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or in an AWS profile and name it with --profile."
        )
    return url.rstrip("/")


def _checked_fields(
    name: str, bucket: str, endpoint_url: str | None, layout: str, pipeline_db: str | os.PathLike[str] | None
) -> tuple[str, str, str | None, bytes | None]:
    """The checks of :func:`add_remote` and :func:`update_remote`: ``(name, bucket, endpoint URL,
    pipeline database as stored)``; :class:`ConfigError` (or :class:`NotFound` for the layout) otherwise."""
    name = name.strip()
    if not _NAME.match(name):
        raise ConfigError(f"'{name}' is not a usable remote name (letters, digits, '.', '_' and '-', up to 64).")
    bucket = bucket.strip()
    if not _BUCKET.match(bucket):
        raise ConfigError(f"'{bucket}' is not a valid bucket name (3-63 lowercase letters, digits, '.', '-').")
    url = _check_endpoint(endpoint_url) if endpoint_url else None
    get_profile(layout)  # NotFound names the known profiles
    db: bytes | None = None
    if pipeline_db is not None:
        real = os.path.abspath(os.fspath(pipeline_db))
        if not os.path.isfile(real):
            raise ConfigError(f"The pipeline database {pipeline_db} does not exist or is not a file.")
        db = to_db_path(real)
    return name, bucket, url, db


def add_remote(
    catalog: Catalog,
    name: str,
    bucket: str,
    *,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    aws_profile: str | None = None,
    pipeline_db: str | os.PathLike[str] | None = None,
    layout: str = "clips-bucket",
    upload_retention_days: int | None = None,
) -> Remote:
    """Register a remote and return it.

    ``upload_retention_days``: how long a sweep of this remote keeps the objects
    mediaclean uploaded and whose local copy it deleted (the only copies, F3),
    counted from the local deletion; ``None`` (the default) keeps them forever.

    Raises :class:`ConfigError` for a bad name, bucket name, endpoint URL
    (credentials in a URL are refused, invariant 10), unknown layout profile,
    a pipeline database that is not a file, a bad retention, or a name already taken.
    """
    name, bucket, url, db = _checked_fields(name, bucket, endpoint_url, layout, pipeline_db)
    retention = check_retention_days(upload_retention_days)
    with catalog.writer("remote add"):
        if catalog.conn.execute("SELECT 1 FROM remotes WHERE name = ?", (name,)).fetchone():
            raise ConfigError(
                f"A remote named '{name}' already exists. Remove it first with 'mediaclean remote remove {name}'."
            )
        cur = catalog.conn.execute(
            "INSERT INTO remotes(name, bucket, prefix, endpoint_url, region, aws_profile, pipeline_db, layout, "
            "created_at, upload_retention_days) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (name, bucket, normalise_prefix(prefix), url, region or None, aws_profile or None, db, layout, iso(),
             retention),
        )
        remote_id = int(cur.lastrowid or 0)
    return get_remote(catalog, remote_id)


def list_remotes(catalog: Catalog) -> list[Remote]:
    """Every remote, by name."""
    return [_row(r) for r in catalog.conn.execute("SELECT * FROM remotes ORDER BY name")]


def get_remote(catalog: Catalog, name_or_id: str | int) -> Remote:
    """The remote with this name (or id); :class:`NotFound` lists the known names."""
    if isinstance(name_or_id, int):
        row = catalog.conn.execute("SELECT * FROM remotes WHERE id = ?", (name_or_id,)).fetchone()
    else:
        row = catalog.conn.execute("SELECT * FROM remotes WHERE name = ?", (name_or_id,)).fetchone()
    if row is None:
        known = ", ".join(r.name for r in list_remotes(catalog)) or "none yet"
        raise NotFound(
            f"No remote named '{name_or_id}' (known remotes: {known}). Add one with 'mediaclean remote add'."
        )
    return _row(row)


def set_upload_retention(catalog: Catalog, name: str, days: int | None) -> Remote:
    """Set remote ``name``'s ``upload_retention_days`` (``None``: keep uploaded only copies forever)."""
    current = get_remote(catalog, name)
    retention = check_retention_days(days)
    with catalog.writer("remote set"):
        catalog.conn.execute("UPDATE remotes SET upload_retention_days = ? WHERE id = ?", (retention, current.id))
    return get_remote(catalog, current.id)


def remove_remote(catalog: Catalog, name: str, *, force: bool = False) -> Remote:
    """Forget a remote (nothing on the store is touched) and its upload records. What the catalog knows
    about the only copies uploaded through it (``only_copies``) stays: other remotes keep them.

    Refuses with :class:`ConfigError` while uploads to it are queued, failed or
    unverified (their local files would lose their queue entry) unless ``force``.
    """
    remote = get_remote(catalog, name)
    with catalog.writer("remote remove"):
        pending = catalog.conn.execute(
            "SELECT count(*) FROM uploads WHERE remote_id = ? AND status IN ('queued', 'uploading', 'failed', "
            "'unverified')",
            (remote.id,),
        ).fetchone()[0]
        if pending and not force:
            raise ConfigError(
                f"The remote '{name}' still has {pending} upload(s) queued or not verified; run 'mediaclean upload' "
                f"again to finish them, or remove it anyway with --force."
            )
        catalog.conn.execute("DELETE FROM remotes WHERE id = ?", (remote.id,))
    return remote


def update_remote(
    catalog: Catalog,
    name: str,
    *,
    new_name: str | None = None,
    bucket: str,
    prefix: str = "",
    endpoint_url: str | None = None,
    region: str | None = None,
    aws_profile: str | None = None,
    pipeline_db: str | os.PathLike[str] | None = None,
    layout: str = "clips-bucket",
    upload_retention_days: Any = KEEP,
) -> Remote:
    """Change remote ``name`` in place (the window's Edit) and return it; every field is given again,
    except ``upload_retention_days``, which stays as stored unless given (``None``: keep forever).

    Its upload records, protections and usage snapshot stay with it. The checks
    are those of :func:`add_remote` (:class:`ConfigError`; :class:`NotFound` for an
    unknown remote). A sweep plan made before a change of bucket or prefix is
    refused when run (``sweep_run._remote_of``), so nothing is deleted from the
    wrong place.
    """
    current = get_remote(catalog, name)
    retention = current.upload_retention_days if upload_retention_days is KEEP \
        else check_retention_days(upload_retention_days)
    renamed, bucket, url, db = _checked_fields(new_name or name, bucket, endpoint_url, layout,
                                               pipeline_db if pipeline_db is None or os.fspath(pipeline_db) else None)
    with catalog.writer("remote edit"):
        if renamed != current.name and catalog.conn.execute("SELECT 1 FROM remotes WHERE name = ?",
                                                            (renamed,)).fetchone():
            raise ConfigError(f"A remote named '{renamed}' already exists; choose another name.")
        catalog.conn.execute(
            "UPDATE remotes SET name = ?, bucket = ?, prefix = ?, endpoint_url = ?, region = ?, aws_profile = ?, "
            "pipeline_db = ?, layout = ?, upload_retention_days = ? WHERE id = ?",
            (renamed, bucket, normalise_prefix(prefix), url, region or None, aws_profile or None, db, layout,
             retention, current.id),
        )
    return get_remote(catalog, current.id)


# ---------------------------------------------------------------- clients

#: botocore's data loaders by data path: the S3 model and endpoint rules, read and parsed once per process
#: (a second client of a sweep took 0.09 s to read them again, 0.01 s with them loaded)
_LOADERS: dict[Any, Any] = {}


def share_loader(core: Any) -> None:
    """Give the botocore session the process's loader of its data path (static model files only: the
    credentials, the profile and the parser stay the session's own)."""
    path = core.get_config_variable("data_path")
    loader = _LOADERS.get(path)
    if loader is None:
        _LOADERS[path] = core.get_component("data_loader")
    else:
        core.register_component("data_loader", loader)


def make_client(
    remote: Remote,
    *,
    max_attempts: int = 5,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
    max_pool_connections: int = 10,
    session: Any = None,
    sign_payload: bool | None = None,
) -> Any:
    """A boto3 S3 client for ``remote``: path-style addressing, signature v4,
    ``standard`` retry mode with ``max_attempts`` tries (exponential back-off
    with jitter, on throttling, 5xx and connection errors).

    Credentials come from boto3's standard chain of a new session for
    ``remote.aws_profile`` (or the default chain), read again for every client; the
    session shares the process's loaded S3 model (:func:`share_loader`). ``sign_payload=False`` sends
    ``UNSIGNED-PAYLOAD`` even over plain http (botocore's default there is to
    SHA-256 every body): only for requests that carry their own signed checksum
    header, such as the uploader's. Raises :class:`S3Error` when the named
    profile does not exist.
    """
    import boto3
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ProfileNotFound

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path", **({} if sign_payload is None else {"payload_signing_enabled": sign_payload})},
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    try:  # a missing profile shows when the session is made, or (a shared model) when the client reads it
        if session is None:
            core = botocore.session.get_session()
            share_loader(core)
            session = boto3.session.Session(botocore_session=core, profile_name=remote.aws_profile)
        return session.client("s3", endpoint_url=remote.endpoint_url, region_name=remote.region or None,
                              config=config)
    except ProfileNotFound:
        raise S3Error(
            f"The AWS profile '{remote.aws_profile}' named by the remote '{remote.name}' is not in "
            f"~/.aws/config or ~/.aws/credentials (fix it with 'aws configure --profile {remote.aws_profile}').",
            "ProfileNotFound",
        ) from None


_CREDENTIAL_CODES = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
    "AuthorizationHeaderMalformed", "InvalidSecurity", "InvalidClientTokenId",
}
_MISSING_BUCKET = {"NoSuchBucket"}
_DENIED = {"AccessDenied", "AllAccessDisabled", "AccountProblem"}
_RETRYABLE = {
    "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed", "InternalError",
    "ServiceUnavailable", "503", "500", "502", "504", "RequestLimitExceeded", "BadDigest", "XAmzContentSHA256Mismatch",
    "InvalidDigest", "IncompleteBody",
}


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ``ClientError`` (or the exception's class name)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status:
            return str(status)
    return type(exc).__name__


def explain_s3_error(exc: BaseException, remote: Remote, action: str = "Upload") -> S3Error:
    """Turn a botocore/boto3 exception into one sentence that says what to do next.

    ``action`` starts the sentence (``Upload``, ``Connection test``, ``Sweep``).
    Covers wrong credentials, no credentials, missing bucket, access denied,
    an unreachable endpoint, throttling and server errors (``retryable``).
    """
    from botocore import exceptions as bx

    where = remote.where
    check = f"the profile '{remote.aws_profile}'" if remote.aws_profile else \
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the remote's profile"
    if isinstance(exc, S3Error):
        return exc
    if isinstance(exc, bx.NoCredentialsError):
        return S3Error(
            f"{action} failed: no credentials found for {where} (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            f"or name an AWS profile with 'mediaclean remote add … --profile NAME').", "NoCredentials")
    if isinstance(exc, bx.PartialCredentialsError):
        return S3Error(f"{action} failed: the credentials for {where} are incomplete ({exc}).", "PartialCredentials")
    if isinstance(exc, bx.ProfileNotFound):
        return S3Error(f"{action} failed: the AWS profile '{remote.aws_profile}' does not exist.", "ProfileNotFound")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError,
                        bx.ReadTimeoutError, bx.ProxyConnectionError)):
        url = remote.endpoint_url or "AWS"
        return S3Error(
            f"{action} failed: cannot reach the store at {url} ({type(exc).__name__}); check the endpoint URL and "
            f"your network, then try again.", type(exc).__name__, retryable=True)
    if isinstance(exc, bx.SSLError):
        return S3Error(f"{action} failed: the TLS connection to {remote.endpoint_url or 'AWS'} failed ({exc}).",
                       "SSLError", retryable=False)
    if isinstance(exc, bx.ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message") or ""
        if code in _CREDENTIAL_CODES:
            return S3Error(f"{action} failed: the store rejected the credentials for bucket '{remote.bucket}' "
                           f"(check {check}).", code)
        if code in _MISSING_BUCKET or (code in ("404", "NotFound") and _is_bucket_op(exc)):
            return S3Error(f"{action} failed: the {where} does not exist (create it, or fix the remote's bucket "
                           f"name with 'mediaclean remote remove {remote.name}' and 'remote add').", code)
        if code in _DENIED or code == "403":
            return S3Error(f"{action} failed: access denied to bucket '{remote.bucket}' (check {check} and the "
                           f"bucket's policy).", code)
        if code in _RETRYABLE or code.startswith("5"):
            detail = f": {message}" if message else ""
            return S3Error(f"{action} failed: the store is busy or failing ({code}{detail}); it will be retried "
                           f"later.", code, retryable=True)
        detail = f": {message}" if message else ""
        return S3Error(f"{action} failed: the store answered {code}{detail}.", code)
    if isinstance(exc, bx.BotoCoreError):
        return S3Error(f"{action} failed: {exc}.", type(exc).__name__, retryable=True)
    if isinstance(exc, OSError):
        return S3Error(f"{action} failed: {exc.strerror or exc}.", type(exc).__name__, retryable=True)
    return S3Error(f"{action} failed: {exc}", type(exc).__name__)


def _is_bucket_op(exc: Any) -> bool:
    return getattr(exc, "operation_name", "") in ("HeadBucket", "GetBucketVersioning", "ListObjectsV2",
                                                  "GetBucketLocation", "GetBucketLifecycleConfiguration")


def versioning_status(client: Any, bucket: str) -> str:
    """``Enabled``, ``Suspended`` or ``Unversioned`` (versioning never turned on).

    botocore errors propagate; wrap them with :func:`explain_s3_error`.
    """
    status = client.get_bucket_versioning(Bucket=bucket).get("Status")
    return str(status) if status else "Unversioned"


def check_bucket(client: Any, remote: Remote, action: str = "Upload") -> None:
    """``head_bucket``; on a bare 403/400 a ``list_objects_v2`` tells wrong credentials from
    missing permissions. Raises :class:`S3Error` (one sentence)."""
    from botocore import exceptions as bx

    try:
        try:
            client.head_bucket(Bucket=remote.bucket)
        except bx.ClientError as exc:
            if error_code(exc) in ("403", "400"):
                # HEAD has no body: ask with a GET to learn which (credentials or permissions)
                client.list_objects_v2(Bucket=remote.bucket, MaxKeys=1, Prefix=remote.prefix)
            raise
    except Exception as exc:  # noqa: BLE001 — every failure becomes one sentence
        raise explain_s3_error(exc, remote, action) from None


def test_connection(remote: Remote, client: Any = None) -> str:
    """Check that the bucket is reachable with the current credentials.

    Returns one sentence such as ``Connected to bucket 'clips' at http://…
    (versioning Unversioned).``; raises :class:`S3Error` (one sentence) when the
    credentials, bucket or endpoint are wrong.
    """
    from botocore import exceptions as bx

    action = "Connection test"
    client = client or make_client(remote, max_attempts=2, connect_timeout=5, read_timeout=20)
    check_bucket(client, remote, action)
    try:
        client.list_objects_v2(Bucket=remote.bucket, MaxKeys=1, Prefix=remote.prefix)
        try:
            versioning = versioning_status(client, remote.bucket)
        except bx.ClientError:
            versioning = "unknown"
    except Exception as exc:  # noqa: BLE001 — every failure becomes one sentence
        raise explain_s3_error(exc, remote, action) from None
    where = f" under '{remote.prefix}'" if remote.prefix else ""
    return f"Connected to {remote.where}{where} (versioning {versioning})."


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported
