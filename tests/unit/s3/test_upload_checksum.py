"""Checksums as S3 writes them: full-object and composite, and comparing them with a store's answer."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib

import pytest

from mediaclean_gui.core.s3.checksum import compare, digest_bytes, digest_fd, digest_small


def test_crc32_is_big_endian_base64():
    # the CRC-32 check value of "123456789" is 0xCBF43926
    assert digest_bytes(b"123456789") == base64.b64encode(bytes.fromhex("cbf43926")).decode()
    assert digest_bytes(b"123456789", "SHA256") == base64.b64encode(hashlib.sha256(b"123456789").digest()).decode()


@pytest.fixture
def media_file(media_pool, tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(media_pool.video.read_bytes() * 3)
    return path


def test_digest_of_a_file_matches_zlib_and_hashlib(media_file):
    data = media_file.read_bytes()
    fd = os.open(media_file, os.O_RDONLY)
    try:
        crc = digest_fd(fd, chunk=4096)
        sha = digest_fd(fd, "SHA256")
    finally:
        os.close(fd)
    assert crc.size == len(data)
    assert crc.value == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert sha.value == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert crc.header == "ChecksumCRC32"


def test_a_small_file_is_read_once_and_its_bytes_are_the_ones_hashed(media_file):
    data = media_file.read_bytes()
    fd = os.open(media_file, os.O_RDONLY)
    try:
        os.lseek(fd, 17, os.SEEK_SET)  # the descriptor's position is not used
        small = digest_small(fd, len(data), md5=True)
        whole = digest_fd(fd, md5=True)
        too_big = digest_small(fd, len(data) - 1)
    finally:
        os.close(fd)
    assert small is not None and too_big is None
    digest, body = small
    assert body == data
    assert (digest.value, digest.size, digest.md5) == (whole.value, whole.size, whole.md5)
    assert digest.md5 == hashlib.md5(data).hexdigest() and digest.etag(False) == digest.md5
    assert digest.part_size is None and digest.parts == ()


def test_composite_checksum_is_the_checksum_of_the_part_checksums(media_file):
    data = media_file.read_bytes()
    part = len(data) // 2 - 7
    fd = os.open(media_file, os.O_RDONLY)
    try:
        digest = digest_fd(fd, "CRC32", part_size=part, chunk=1000)
    finally:
        os.close(fd)
    parts = [data[i:i + part] for i in range(0, len(data), part)]
    assert len(digest.parts) == len(parts) == 3
    raw = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    assert digest.composite() == base64.b64encode(zlib.crc32(raw).to_bytes(4, "big")).decode() + "-3"


def _digest(data: bytes, tmp_path, part_size=None):
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        return digest_fd(fd, part_size=part_size)
    finally:
        os.close(fd)


def test_compare_full_object(tmp_path):
    local = _digest(b"frames" * 1000, tmp_path)
    ok = compare(local, {"ContentLength": 6000, "ChecksumCRC32": local.value})
    assert ok.verified and not ok.mismatch and ok.kind == "full_object"
    bad = compare(local, {"ContentLength": 6000, "ChecksumCRC32": "AAAAAA=="})
    assert bad.mismatch and not bad.verified
    assert bad.detail == f"CRC32 checksum differs: store AAAAAA==, file {local.value}"
    short = compare(local, {"ContentLength": 5999, "ChecksumCRC32": local.value})
    assert short.mismatch and short.detail == "size differs: the store holds 5999 bytes, the file had 6000"


def test_compare_without_a_checksum_is_no_proof(tmp_path):
    local = _digest(b"x" * 10, tmp_path)
    verdict = compare(local, {"ContentLength": 10, "ETag": '"abc"'})
    assert not verdict.verified and not verdict.mismatch
    tail = ("so nothing proves it holds the file's bytes (use a store that supports S3 checksums, or check the "
            "object and delete the file yourself)")
    assert verdict.detail == f"the store keeps no CRC32 checksum for the object, {tail}"
    other = compare(local, {"ContentLength": 10, "ChecksumSHA256": "x", "ChecksumType": "FULL_OBJECT"})
    assert other.detail == f"the store keeps no CRC32 checksum for the object (it reported ChecksumSHA256), {tail}"
    assert not compare(local, {}).verified


def test_compare_composite(tmp_path):
    data = os.urandom(25)
    local = _digest(data, tmp_path, part_size=10)
    good = compare(local, {"ContentLength": 25, "ChecksumCRC32": local.composite()})
    assert good.verified and good.kind == "composite"
    wrong_parts = compare(local, {"ContentLength": 25, "ChecksumCRC32": "AAAAAA==-2"})
    assert not wrong_parts.verified and not wrong_parts.mismatch  # hashed in other parts: no proof either way
    wrong = compare(local, {"ContentLength": 25, "ChecksumCRC32": "AAAAAA==-3"})
    assert wrong.mismatch
    unknown = compare(_digest(data, tmp_path), {"ContentLength": 25, "ChecksumCRC32": "AAAAAA==-3"})
    assert not unknown.verified and not unknown.mismatch
    assert "part size is unknown" in unknown.detail
