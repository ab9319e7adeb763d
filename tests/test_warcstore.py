"""Writing captures into WARC files: whole records, rollover, warcinfo, torn tails."""

from __future__ import annotations

import pytest
from warcio.archiveiterator import ArchiveIterator

from kbharvest.errors import InputError
from kbharvest.warcstore import (
    H_ARCHIVE,
    H_CDX_DIGEST,
    H_REQUESTED_TS,
    H_SERVED_TS,
    CaptureRecord,
    WarcStore,
    iter_captures,
    scan_members,
    sha1_base32,
)


def _cap(i: int, body: bytes | None = None) -> CaptureRecord:
    body = body if body is not None else b"<html><title>KB%d</title>made-up</html>" % i
    return CaptureRecord(
        url=f"http://support.microsoft.com/kb/{977000 + i}", timestamp="20100102030405",
        status=200,
        headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                 ("Content-Length", "1")],
        body=body,
        extra={H_ARCHIVE: "https://web.archive.org", H_REQUESTED_TS: "20100101000000",
               H_SERVED_TS: "20100102030405", H_CDX_DIGEST: sha1_base32(body)})


def test_a_written_capture_reads_back_with_its_provenance(tmp_path):
    with WarcStore(tmp_path, info={"operator": "tests"}) as store:
        where = store.write(_cap(1))
    path = tmp_path / where.file
    (cap,) = list(iter_captures(path))
    assert cap.url == "http://support.microsoft.com/kb/977001"
    assert cap.timestamp == "20100102030405" and cap.warc_date == "2010-01-02T03:04:05Z"
    assert cap.archive == "https://web.archive.org" and cap.status == 200
    assert cap.body == _cap(1).body and cap.digest == sha1_base32(cap.body)
    with open(path, "rb") as fh:
        records = list(ArchiveIterator(fh))
    assert records[0].rec_type == "warcinfo"
    # stored decoded: the transfer's Content-Encoding must not describe the stored body
    assert records[1].http_headers.get_header("Content-Encoding") is None


def test_files_roll_over_at_the_size_limit_and_each_starts_with_warcinfo(tmp_path):
    with WarcStore(tmp_path, max_size=2000) as store:
        files = {store.write(_cap(i, bytes(range(256)) * 8)).file for i in range(5)}
    assert len(files) >= 3
    for name in files:
        with open(tmp_path / name, "rb") as fh:
            kinds = [r.rec_type for r in ArchiveIterator(fh)]
        assert kinds[0] == "warcinfo" and "response" in kinds


def test_a_torn_last_record_is_found_and_everything_before_it_is_whole(tmp_path):
    with WarcStore(tmp_path) as store:
        first = store.write(_cap(1))
        second = store.write(_cap(2))
    path = tmp_path / first.file
    whole = path.read_bytes()
    path.write_bytes(whole[: second.offset + second.length // 2])
    members, end = scan_members(path)
    assert end == second.offset
    assert [m.rec_type for m in members] == ["warcinfo", "response"]
    path.write_bytes(whole[:end])
    assert len(list(iter_captures(path))) == 1


def test_a_warc_prefix_with_a_path_in_it_is_refused(tmp_path):
    with pytest.raises(InputError):
        WarcStore(tmp_path, prefix="../evil")


def test_the_payload_digest_is_base32_sha1_like_the_cdx_prints_it():
    assert sha1_base32(b"") == "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
