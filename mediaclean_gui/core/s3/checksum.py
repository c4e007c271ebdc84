"""Checksums of local files for S3 uploads (full-object and composite), and comparing them with the store's."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

#: algorithms we can compute with the standard library (CRC32C/CRC64NVME need awscrt).
ALGORITHMS = ("CRC32", "SHA256", "SHA1")
DEFAULT_ALGORITHM = "CRC32"
_CHUNK = 8 * 1024 * 1024


class _Hasher(Protocol):
    def update(self, data: bytes | memoryview) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes | memoryview) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def new_hasher(algorithm: str) -> _Hasher:
    """A fresh hasher for ``CRC32``, ``SHA256`` or ``SHA1`` (S3's byte order: big-endian CRC)."""
    if algorithm == "CRC32":
        return _Crc32()
    if algorithm in ("SHA256", "SHA1"):
        return hashlib.new(algorithm.lower())
    raise ValueError(f"unsupported checksum algorithm {algorithm!r} (one of {', '.join(ALGORITHMS)})")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class FileDigest:
    """A file's checksum as S3 writes it: base64 of the digest (``algorithm`` e.g. ``CRC32``).

    ``parts`` holds the raw digest of each ``part_size``-byte part when a part
    size was given, so a composite multipart checksum (``xxx-N``) can be
    compared too. ``size`` is the number of bytes hashed.
    """

    algorithm: str
    value: str
    size: int
    part_size: int | None = None
    parts: tuple[bytes, ...] = field(default=(), repr=False)
    md5: str | None = None
    part_md5s: tuple[bytes, ...] = field(default=(), repr=False)

    def etag(self, multipart: bool) -> str | None:
        """The ETag an S3 store gives these bytes when it stores them unencrypted: the MD5 (hex) of a
        single-part object, ``md5(part MD5s)-N`` of a multipart one; ``None`` when MD5s were not kept."""
        if self.md5 is None:
            return None
        if not multipart:
            return self.md5
        if not self.part_md5s:
            return None
        return f"{hashlib.md5(b''.join(self.part_md5s), usedforsecurity=False).hexdigest()}-{len(self.part_md5s)}"

    @property
    def header(self) -> str:
        """The boto3 parameter that carries it: ``ChecksumCRC32``, ``ChecksumSHA256``…"""
        return f"Checksum{self.algorithm}"

    def composite(self) -> str | None:
        """``base64(H(part digests))-N``, the composite checksum of a multipart upload, or ``None``."""
        if not self.parts:
            return None
        hasher = new_hasher(self.algorithm)
        hasher.update(b"".join(self.parts))
        return f"{b64(hasher.digest())}-{len(self.parts)}"


def digest_fd(
    fd: int,
    algorithm: str = DEFAULT_ALGORITHM,
    *,
    part_size: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
    chunk: int = _CHUNK,
    md5: bool = False,
) -> FileDigest:
    """Hash an open file from offset 0 to its end (reads with ``os.preadv``-style ``pread``; the
    descriptor's position is not used). With ``part_size``, also keep each part's digest; with
    ``md5``, the MD5 of the whole and of each part too (to compare with an ETag).

    ``on_bytes(n)`` is called after each chunk (for progress). ``OSError`` propagates.
    """
    full = new_hasher(algorithm)
    whole_md5 = hashlib.md5(usedforsecurity=False) if md5 else None
    part_md5 = hashlib.md5(usedforsecurity=False) if md5 and part_size else None
    md5s: list[bytes] = []
    parts: list[bytes] = []
    part = new_hasher(algorithm) if part_size else None
    in_part = 0
    offset = 0
    step = min(chunk, part_size) if part_size else chunk
    while True:
        want = step if not part_size else min(step, part_size - in_part)
        data = os.pread(fd, want, offset)
        if not data:
            break
        offset += len(data)
        full.update(data)
        if whole_md5 is not None:
            whole_md5.update(data)
        if part is not None and part_size:
            part.update(data)
            if part_md5 is not None:
                part_md5.update(data)
            in_part += len(data)
            if in_part == part_size:
                parts.append(part.digest())
                part = new_hasher(algorithm)
                if part_md5 is not None:
                    md5s.append(part_md5.digest())
                    part_md5 = hashlib.md5(usedforsecurity=False)
                in_part = 0
        if on_bytes is not None:
            on_bytes(len(data))
    if part is not None and in_part:
        parts.append(part.digest())
        if part_md5 is not None:
            md5s.append(part_md5.digest())
    return FileDigest(algorithm, b64(full.digest()), offset, part_size, tuple(parts),
                      whole_md5.hexdigest() if whole_md5 is not None else None, tuple(md5s))


def digest_small(fd: int, limit: int, algorithm: str = DEFAULT_ALGORITHM, *,
                 md5: bool = False) -> tuple[FileDigest, bytes] | None:
    """Read a whole file of at most ``limit`` bytes with one ``pread`` from offset 0 and hash it: its
    :class:`FileDigest` (single part) and the very bytes hashed, so they can be sent as they are; ``None``
    when the file holds more than ``limit`` bytes (hash it with :func:`digest_fd`). ``OSError`` propagates."""
    data = os.pread(fd, limit + 1, 0)
    if len(data) > limit:
        return None
    hasher = new_hasher(algorithm)
    hasher.update(data)
    etag = hashlib.md5(data, usedforsecurity=False).hexdigest() if md5 else None
    return FileDigest(algorithm, b64(hasher.digest()), len(data), md5=etag), data


def digest_bytes(data: bytes, algorithm: str = DEFAULT_ALGORITHM) -> str:
    """The base64 checksum of ``data`` (for small probe objects)."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return b64(hasher.digest())


@dataclass(frozen=True)
class Verdict:
    """What a read-back (``head_object``) or an upload response proves.

    ``verified``: size and checksum match. ``mismatch``: the store holds
    different bytes (a failure). Neither: no proof possible (``unverified``).
    ``kind`` is ``full_object`` or ``composite`` when a checksum was compared.
    """

    verified: bool
    mismatch: bool
    detail: str
    remote_checksum: str | None = None
    kind: str | None = None


def compare(local: FileDigest, response: dict[str, Any], *, check_size: bool = True) -> Verdict:
    """Compare a local digest with an S3 response (``head_object`` or an upload's response).

    Size (``ContentLength``) is compared when ``check_size``; the checksum field
    ``Checksum{algorithm}`` may be full-object (``xxx``) or composite (``xxx-N``).
    """
    if check_size:
        remote_size = response.get("ContentLength")
        if remote_size is None:
            return Verdict(False, False, "the store did not report the object's size")
        if int(remote_size) != local.size:
            return Verdict(False, True, f"size differs: the store holds {remote_size} bytes, the file had {local.size}")
    remote = response.get(local.header)
    if not remote:
        others = sorted(k for k in response if k.startswith("Checksum") and k != "ChecksumType")
        extra = f" (it reported {', '.join(others)})" if others else ""
        return Verdict(False, False, f"the store keeps no {local.algorithm} checksum for the object{extra}, so "
                                     f"nothing proves it holds the file's bytes (use a store that supports S3 "
                                     f"checksums, or check the object and delete the file yourself)")
    remote = str(remote)
    kind = response.get("ChecksumType")
    if "-" not in remote and remote != local.value and kind != "FULL_OBJECT" and local.composite():
        # a composite checksum written without its part count (moto 5 does): compare it as composite
        remote = f"{remote}-{len(local.parts)}"
    if "-" in remote:
        mine = local.composite()
        if mine is None:
            return Verdict(False, False, f"the store returned a composite checksum ({remote}) and the part size "
                                         f"is unknown", remote, "composite")
        if mine == remote:
            return Verdict(True, False, f"{local.algorithm} composite checksum matches", remote, "composite")
        if remote.rsplit("-", 1)[1] != str(len(local.parts)):
            return Verdict(False, False, f"the store's composite checksum has {remote.rsplit('-', 1)[1]} parts, "
                                         f"not the {len(local.parts)} this file was hashed in", remote, "composite")
        return Verdict(False, True, f"{local.algorithm} composite checksum differs: store {remote}, file {mine}",
                       remote, "composite")
    if remote == local.value:
        return Verdict(True, False, f"{local.algorithm} checksum matches", remote, "full_object")
    return Verdict(False, True, f"{local.algorithm} checksum differs: store {remote}, file {local.value}",
                   remote, "full_object")
