"""Start and stop moto's standalone S3 server (``moto_server``, from the ``moto[server]`` wheel): a second,
independent S3 implementation, so the suite does not lean on what SeaweedFS happens to do.

The same interface as :class:`s3_server.SeaweedServer` (``endpoint_url``, keys, ``region``, ``client()``,
``new_bucket()``, ``start()``/``stop()``, ``process``). moto keeps everything in memory: a restart loses
the data, so tests that stop the store mid-run are SeaweedFS-only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCESS_KEY = "mediaclean-test-access"
SECRET_KEY = "mediaclean-test-secret-0123456789"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def moto_command() -> str:
    """``moto_server`` from the interpreter's own environment (the venv), never from the host's PATH."""
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise RuntimeError("the 'moto_server' command (pip package moto[server]) is not installed")
    return found


@dataclass
class MotoServer:
    """One ``moto_server -H 127.0.0.1 -p PORT`` process; ``start()`` waits until a ``put_object`` succeeds."""

    base: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    name: str = "moto"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **overrides: Any) -> Any:
        import boto3
        from botocore.config import Config

        config = overrides.pop("config", None) or Config(
            signature_version="s3v4", s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60,
        )
        kwargs: dict[str, Any] = {"endpoint_url": self.endpoint_url, "aws_access_key_id": self.access_key,
                                  "aws_secret_access_key": self.secret_key, "region_name": self.region,
                                  "config": config}
        kwargs.update(overrides)
        return boto3.session.Session().client("s3", **kwargs)

    def start(self, timeout: float = 30.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.base.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [moto_command(), "-H", "127.0.0.1", "-p", str(self.port)], cwd=self.base,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        from botocore.config import Config

        client = self.client(config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                           retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5))
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                client.create_bucket(Bucket="mediaclean-ready-probe")
                client.put_object(Bucket="mediaclean-ready-probe", Key="ready", Body=b"ok")
                return
            except Exception as exc:  # noqa: BLE001 — not ready yet
                last = exc
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server not ready after {timeout:.0f} s (last error: {last})")

    def stop(self, grace: float = 10.0) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.process = None

    def new_bucket(self, prefix: str = "mc") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name
