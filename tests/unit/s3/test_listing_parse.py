"""The sweep's listing reads pages the way botocore does: its fast path for listing entries gives the same
parsed page as botocore's own parser, falls back to it for entries it does not know, and the fingerprint JSON
written without a dict is what ``json.dumps`` writes."""

from __future__ import annotations

import datetime as dt
import json

import botocore.session
import pytest
from botocore.parsers import RestXMLParser

from mediaclean_gui.core.s3.listing import _listing_parsers, _parse_timestamp
from mediaclean_gui.core.s3.retention import ListedObject

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def page(entries: list[str], truncated: bool = True) -> bytes:
    body = "".join(f"<Contents>{e}</Contents>" for e in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NS}"><Name>b</Name><Prefix></Prefix>'
            f"<KeyCount>{len(entries)}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>{str(truncated).lower()}"
            f"</IsTruncated>{body}<NextContinuationToken>tok+/=</NextContinuationToken>"
            f"<CommonPrefixes><Prefix>clips/</Prefix></CommonPrefixes></ListBucketResult>").encode()


def entry(key: str, etag: str = "&#34;9dd4e461268c8034f5c8564e155c67a6&#34;", extra: str = "") -> str:
    return (f"<Key>{key}</Key><LastModified>2026-11-30T10:11:12.000Z</LastModified><ETag>{etag}</ETag>"
            f"<Size>1234</Size><StorageClass>STANDARD</StorageClass>{extra}")


def parse(parser: RestXMLParser, body: bytes) -> dict:
    model = botocore.session.get_session().get_service_model("s3").operation_model("ListObjectsV2")
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200,
                           "context": {"operation_name": "ListObjectsV2"}}, model.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def parsers() -> tuple[RestXMLParser, RestXMLParser]:
    factory = _listing_parsers()
    factory.set_parser_defaults(timestamp_parser=_parse_timestamp)
    return RestXMLParser(timestamp_parser=_parse_timestamp), factory.create_parser("rest-xml")


ODD_ENTRIES = [
    entry("clips/a.mp4"),
    entry("clips/a &amp; b &lt;c&gt; &#34;q&#34; &#39;p&#39;.mp4"),
    entry("clips/caf\u00e9 \u65e5\u672c/\U0001f3ac take+2%20.mp4"),
    entry("clips/empty-etag.mp4", etag=""),
    entry("clips/spaces  and\ttab.mp4", etag="&#34;abc-12&#34;"),
    entry("clips/checksum.mp4", extra="<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT"
                                      "</ChecksumType>"),
    entry("clips/owned.mp4", extra="<Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>"),
    entry("clips/restored.mp4", extra="<RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress>"
                                      "</RestoreStatus>"),
    entry("clips/unknown-element.mp4", extra="<x-store-extra>1</x-store-extra>"),
]


@pytest.mark.parametrize("entries", [ODD_ENTRIES, ODD_ENTRIES[:1], []], ids=["odd", "one", "none"])
def test_fast_path_parses_a_page_exactly_as_botocore_does(entries):
    stock, fast = parsers()
    body = page(entries)
    assert parse(fast, body) == parse(stock, body)


def test_plain_entries_take_the_fast_path_and_known_ones_fall_back(monkeypatch):
    """The fast path really runs (a page of plain entries never reaches botocore's walk over an entry's shape),
    and an entry with elements it does not read goes to botocore's parser."""
    walked: list[str] = []
    original = RestXMLParser._handle_structure

    def counting(self, shape, node):
        if shape.name == "Object":
            walked.append(shape.name)
        return original(self, shape, node)

    monkeypatch.setattr(RestXMLParser, "_handle_structure", counting)
    _, fast = parsers()
    parsed = parse(fast, page([entry(f"k{i}") for i in range(50)]))
    assert len(parsed["Contents"]) == 50 and walked == []
    assert parsed["Contents"][7] == {"Key": "k7", "ETag": '"9dd4e461268c8034f5c8564e155c67a6"', "Size": 1234,
                                     "StorageClass": "STANDARD",
                                     "LastModified": dt.datetime(2026, 11, 30, 10, 11, 12, tzinfo=dt.timezone.utc)}
    parse(fast, page([entry("owned", extra="<Owner><ID>abc</ID></Owner>"), entry("plain")]))
    assert walked == ["Object"]


@pytest.mark.parametrize("etag,version", [('"9dd4e461268c8034f5c8564e155c67a6"', None), ('"abc-12"', None),
                                          ("", None), ('we\\ird "\u00e9t\u00e4g"\n', None), ('"e"', "v1")])
def test_fingerprint_json_is_what_json_dumps_writes(etag, version):
    listed = ListedObject("p/clips/a.mp4", "clips/a.mp4", 123, etag,
                          dt.datetime(2026, 11, 30, 10, 11, 12, 987000, tzinfo=dt.timezone.utc), version)
    assert listed.fingerprint_json() == json.dumps(listed.fingerprint())
    assert json.loads(listed.fingerprint_json())["last_modified"] == "2026-11-30T10:11:12Z"


def test_clients_share_the_model_files_but_never_credentials(monkeypatch, tmp_path):
    """The loaded S3 model is shared between the sweep's and the uploader's clients of one process; each client
    still resolves its own credentials (a remote changed, or another store, never gets the previous one's keys)."""
    from mediaclean_gui.core.s3 import listing, remote as remotes
    from mediaclean_gui.core.s3.remote import Remote

    empty = tmp_path / "aws-empty"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    remote = Remote(id=1, name="r", bucket="b", prefix="", endpoint_url="http://127.0.0.1:9", region="us-east-1",
                    aws_profile=None, pipeline_db=None, layout="clips-bucket", created_at="2026-12-01T00:00:00Z")
    keys, loaders = [], []
    for access, make in (("first-key", listing.sweep_client), ("second-key", remotes.make_client),
                         ("third-key", listing.sweep_client), ("fourth-key", remotes.make_client)):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", access)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access + "-secret")
        client = make(remote)
        keys.append(client._request_signer._credentials.access_key)
        loaders.append(client._loader)
    assert keys == ["first-key", "second-key", "third-key", "fourth-key"]
    assert len(remotes._LOADERS) == 1
    assert all(loader is loaders[0] for loader in loaders)
