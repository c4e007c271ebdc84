"""Integration fixtures: two real S3 servers (SeaweedFS and moto, one of each per session), a fresh bucket per
test, S3 credentials in the env.

Every test that uses ``s3``, ``s3_env`` or ``bucket`` runs against both servers (ids ``seaweedfs`` and
``moto``). A test that needs what only SeaweedFS does (a stop and restart with the data kept, checked
credentials) carries ``@pytest.mark.seaweedfs_only("why")``; its moto run is skipped with that reason."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from moto_server import MotoServer  # noqa: E402
from s3_server import SeaweedServer  # noqa: E402

S3_SERVERS = ("seaweedfs", "moto")


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


@pytest.fixture(scope="session")
def moto_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's standalone server (``moto_server`` from the venv) on a free loopback port, for the session."""
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=S3_SERVERS)
def s3(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One of the session servers (SeaweedFS or moto), restarted first if an earlier test left it stopped.

    ``s3.name`` says which. A test marked ``seaweedfs_only`` is skipped on moto with the marker's reason.
    """
    if request.param == "moto":
        marker = request.node.get_closest_marker("seaweedfs_only")
        if marker is not None:
            pytest.skip(f"moto: {marker.args[0] if marker.args else 'SeaweedFS only'}")
        server: Any = request.getfixturevalue("moto_s3_server")
    else:
        server = request.getfixturevalue("s3_server")
        server.name = "seaweedfs"
    if server.process is None or server.process.poll() is not None:
        server.start()
    yield server
    if server.process is None or server.process.poll() is not None:
        server.start()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh, uniquely named, empty bucket on the session server; emptied and deleted afterwards: each
    SeaweedFS bucket is a collection with volumes of its own, and a session that kept every bucket ran out
    of volumes near its end ("No writable volumes and no free volumes left", PutObject InternalError)."""
    name = s3.new_bucket()
    yield name
    remove_bucket(s3, name)


def remove_bucket(server: Any, name: str) -> None:
    """Abort the bucket's multipart uploads, delete every object version and delete marker, then the bucket.
    Best effort: a test may have left the server stopped (it is restarted after the test, empty buckets and
    all), and nothing a test asserts depends on this."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.client(config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                         retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2,
                                         read_timeout=30))
    try:
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for upload in page.get("Uploads", []) or []:
                client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
            gone = [{"Key": v["Key"], **({"VersionId": v["VersionId"]} if v.get("VersionId", "null") != "null"
                                         else {})}
                    for v in (page.get("Versions", []) or []) + (page.get("DeleteMarkers", []) or [])]
            if gone:
                client.delete_objects(Bucket=name, Delete={"Objects": gone, "Quiet": True})
        client.delete_bucket(Bucket=name)
    except (BotoCoreError, ClientError):
        pass
    finally:
        client.close()


@pytest.fixture
def s3_env(s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
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


# ---------------------------------------------------------------- upload workspaces (F3)


@pytest.fixture(scope="session")
def big_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real mp4 of about 6.5 MB (lossless noise), above a 5 MB multipart threshold."""
    import subprocess

    out = tmp_path_factory.mktemp("bigmedia") / "noise.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         "color=size=640x360:duration=0.64:rate=25,noise=alls=100:allf=t+u", "-c:v", "libx264", "-preset",
         "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(out)],
        check=True, timeout=120,
    )
    assert out.stat().st_size > 5 * 1024 * 1024
    return out


class MvWorkspace:
    """A seed 000 back end: ``backend/mv/outputs/{jobs,audio,videos}/…`` with real media, files aged
    past the settle time. ``digests`` maps relative path -> sha256 hex of the bytes written."""

    def __init__(self, root: Path, media, big: Path) -> None:
        self.root = root
        self.media = media
        self.big = big
        self.digests: dict[str, str] = {}
        root.mkdir(parents=True, exist_ok=True)

    def add(self, rel: str, kind: str = "mp4", age: float = 3600.0) -> Path:
        import hashlib
        import os
        import shutil

        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if kind == "big":
            shutil.copyfile(self.big, dest)
        elif kind == "json":
            dest.write_text('{"video_id": "%s", "model": "test"}' % rel.split("/")[-2], encoding="utf-8")
        else:
            shutil.copyfile({"mp4": self.media.video, "mp3": self.media.audio, "jpg": self.media.image}[kind], dest)
        past = __import__("time").time() - age
        os.utime(dest, (past, past))
        self.digests[rel] = hashlib.sha256(dest.read_bytes()).hexdigest()
        return dest

    def job(self, video_id: str, *, big: bool = False, image: bool = True) -> list[str]:
        rels = [f"backend/mv/outputs/jobs/{video_id}/video.mp4", f"backend/mv/outputs/jobs/{video_id}/metadata.json"]
        self.add(rels[0], "big" if big else "mp4")
        self.add(rels[1], "json")
        if image:
            rels.append(f"backend/mv/outputs/jobs/{video_id}/reference_image.jpg")
            self.add(rels[-1], "jpg")
        return rels

    def path(self, rel: str) -> Path:
        return self.root / rel


@pytest.fixture
def mv_workspace(tmp_path: Path, media_pool, big_video: Path) -> MvWorkspace:
    return MvWorkspace(tmp_path / "mvws", media_pool, big_video)
