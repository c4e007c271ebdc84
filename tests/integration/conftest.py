"""Integration fixtures: the real SeaweedFS server (session), a fresh bucket per test, S3 credentials in the env."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from s3_server import SeaweedServer  # noqa: E402


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A real ``weed mini`` on 127.0.0.1 with free ports and a fresh data folder (SPEC section 6).

    Yields a :class:`SeaweedServer`: ``endpoint_url``, ``access_key``, ``secret_key``,
    ``region``, ``client()`` (path-style, signature v4), ``stop()``/``start()``
    (same data folder and ports) and ``new_bucket()``. SIGTERM at the end.
    """
    server = SeaweedServer(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: SeaweedServer) -> Iterator[SeaweedServer]:
    """The session server, restarted first if an earlier test left it stopped."""
    if s3_server.process is None or s3_server.process.poll() is not None:
        s3_server.start()
    yield s3_server
    if s3_server.process is None or s3_server.process.poll() is not None:
        s3_server.start()


@pytest.fixture
def bucket(s3: SeaweedServer) -> str:
    """A fresh, uniquely named, empty bucket on the session server."""
    return s3.new_bucket()


@pytest.fixture
def s3_env(s3: SeaweedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SeaweedServer:
    """The server's credentials through boto3's standard chain (environment only; never stored by us).

    The shared config/credentials files point at empty files so the developer's own
    ``~/.aws`` cannot leak into a test.
    """
    empty = tmp_path / "aws-empty"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3.region)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return s3
