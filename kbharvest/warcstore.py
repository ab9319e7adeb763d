"""WARC files of raw captures: reading them back, and writing them whole-or-not-at-all.

Reading: ``iter_captures`` (the parser's way in). Writing: ``WarcStore`` appends one gzip
member per record, rolls files over at a size limit, opens each file with a warcinfo record
and can find and cut off a torn record left by a crash (``scan_members``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from kbharvest.errors import InputError

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")

# Our own WARC headers carrying archive provenance (the crawler writes them).
H_ARCHIVE = "WARC-KB-Archive"
H_REQUESTED_TS = "WARC-KB-Requested-Timestamp"
H_SERVED_TS = "WARC-KB-Served-Timestamp"
H_CDX_DIGEST = "WARC-KB-CDX-Digest"
# Written by the crawler too (readers may ignore them):
H_KB_ID = "WARC-KB-Id"  # the KB id the capture was harvested for (or read from the page)
H_LANGUAGE = "WARC-KB-Language"
H_CAPTURE = "WARC-KB-Capture"  # "<requested ts> <CDX original URL>": the ledger's key
H_DIGEST_MATCH = "WARC-KB-Digest-Match"  # "yes"/"no": body SHA-1 vs the CDX digest
H_REDIRECTS = "WARC-KB-Redirect-Chain"  # JSON list of hops followed inside the archive
H_NOTE = "WARC-KB-Note"


def is_warc(path: Path) -> bool:
    """True when the file name says WARC/ARC (plain or gzip)."""
    name = path.name.lower()
    return name.endswith(WARC_SUFFIXES)


@dataclass(frozen=True)
class WarcCapture:
    """One archived HTTP response read from a WARC file."""

    name: str  # "<file>#<offset>" so a user can find the record again
    url: str
    warc_date: str | None
    timestamp: str | None  # 14 digits: served timestamp if recorded, else from WARC-Date
    archive: str | None
    digest: str | None
    status: int | None
    content_type: str | None
    body: bytes
    requested_timestamp: str | None = None  # what the crawler asked the archive for


def _ts_from_warc_date(value: str | None) -> str | None:
    if not value:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[:14] if len(digits) >= 14 else None


def iter_captures(path: Path, max_body: int = 50 * 1024 * 1024) -> Iterator[WarcCapture]:
    """Yield every ``response`` (and ``resource``) record of a WARC file, in file order.

    Raises InputError when the file is not a readable WARC; a record whose body exceeds
    ``max_body`` is yielded truncated to nothing with status None so the caller can reject it.
    """
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "resource"):
                    continue
                headers = record.rec_headers
                offset = record.raw_stream.tell() if hasattr(record.raw_stream, "tell") else None
                status = None
                ctype = None
                if record.http_headers is not None:
                    code = record.http_headers.get_statuscode()
                    status = int(code) if code and code.isdigit() else None
                    ctype = record.http_headers.get_header("Content-Type")
                else:
                    ctype = headers.get_header("Content-Type")
                body = record.content_stream().read(max_body + 1)
                if len(body) > max_body:
                    body = b""
                    status = None
                yield WarcCapture(
                    name=f"{path}#{headers.get_header('WARC-Record-ID') or offset}",
                    url=headers.get_header("WARC-Target-URI") or "",
                    warc_date=headers.get_header("WARC-Date"),
                    timestamp=headers.get_header(H_SERVED_TS)
                    or _ts_from_warc_date(headers.get_header("WARC-Date")),
                    archive=headers.get_header(H_ARCHIVE),
                    digest=headers.get_header(H_CDX_DIGEST)
                    or headers.get_header("WARC-Payload-Digest"),
                    status=status,
                    content_type=ctype,
                    body=body,
                    requested_timestamp=headers.get_header(H_REQUESTED_TS),
                )
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise InputError(str(path), f"not a readable WARC file ({exc})") from exc


# --- writing ---------------------------------------------------------------------------

#: Default size at which a new WARC file is started (compressed bytes).
DEFAULT_MAX_WARC_SIZE = 256 * 1024 * 1024
# Response headers that describe the transfer, not the payload we store decoded.
_DROP_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection",
                 "keep-alive"}
_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def sha1_base32(data: bytes) -> str:
    """The digest form CDX servers print: base32 of the SHA-1 of the payload."""
    return base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(timestamp: str) -> str:
    """14-digit archive timestamp → WARC-Date (``2010-01-02T03:04:05Z``)."""
    t = (timestamp + "00000000000000")[:14]
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


@dataclass(frozen=True)
class CaptureRecord:
    """What the crawler stores for one capture: the archived response and its provenance."""

    url: str  # WARC-Target-URI: the original URL of the page served
    timestamp: str  # the served (capture) timestamp, 14 digits
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    extra: dict[str, str]  # our WARC-KB-* headers


@dataclass(frozen=True)
class Stored:
    """Where a record landed: file name (inside the store's folder), offset, length."""

    file: str
    offset: int
    length: int


def build_record(cap: CaptureRecord) -> bytes:
    """One gzip member holding one WARC response record (bytes, not yet written)."""
    headers = [(k, v) for k, v in cap.headers if k.lower() not in _DROP_HEADERS]
    headers.append(("Content-Length", str(len(cap.body))))
    reason = _REASONS.get(cap.status, "Status")
    http = StatusAndHeaders(f"{cap.status} {reason}", headers, protocol="HTTP/1.1")
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    warc_headers = {"WARC-Date": warc_date(cap.timestamp), **cap.extra}
    record = writer.create_warc_record(cap.url, "response", payload=io.BytesIO(cap.body),
                                       http_headers=http, warc_headers_dict=warc_headers)
    writer.write_record(record)
    return buf.getvalue()


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other",
            307: "Temporary Redirect", 308: "Permanent Redirect", 404: "Not Found",
            410: "Gone", 500: "Internal Server Error"}


def _warcinfo(filename: str, info: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    fields = {"software": "kbharvest", "format": "WARC File Format 1.1",
              "hostname": socket.gethostname(), **info}
    writer.write_record(writer.create_warcinfo_record(filename, fields))
    return buf.getvalue()


class WarcStore:
    """Appends capture records to gzip WARC files in one folder, rolling over at a size.

    Each record is built in memory as one gzip member and written with one call, then
    flushed and fsync'ed: after a crash a file ends with whole records and at most one torn
    member, which :meth:`repair` cuts off. Each file starts with a warcinfo record.
    ``prefix`` must be a plain name: nothing is ever written outside ``directory``.
    """

    def __init__(self, directory: Path, prefix: str = "kbharvest",
                 max_size: int = DEFAULT_MAX_WARC_SIZE, info: dict[str, str] | None = None,
                 fsync: bool = True) -> None:
        if not _SAFE_PREFIX.match(prefix):
            raise InputError(prefix, "WARC file prefix must be a plain name ([A-Za-z0-9._-])")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.info = dict(info or {})
        self.fsync = fsync
        self._fd: int | None = None
        self._name: str | None = None
        self._size = 0

    def _open_new(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        for seq in range(100000):
            name = f"{self.prefix}-{stamp}-{os.getpid()}-{seq:05d}.warc.gz"
            path = self.directory / name
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 100000 files in one second
            raise InputError(str(self.directory), "cannot create a new WARC file name")
        self._fd, self._name, self._size = fd, name, 0
        self._append(_warcinfo(name, self.info))

    def _append(self, data: bytes) -> int:
        assert self._fd is not None
        offset = self._size
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if self.fsync:
            os.fsync(self._fd)
        self._size += len(data)
        return offset

    def write(self, cap: CaptureRecord) -> Stored:
        """Store one capture; returns where it is. Rolls over first when the file is full."""
        data = build_record(cap)
        if self._fd is None or (self._size + len(data) > self.max_size and self._size > 0
                                and self._records_in_file > 0):
            self._open_new()
            self._records_in_file = 0
        offset = self._append(data)
        self._records_in_file += 1
        assert self._name is not None
        return Stored(self._name, offset, len(data))

    _records_in_file = 0

    def write_raw(self, data: bytes) -> Stored:
        """Store one already-built gzip record member (used by import)."""
        if self._fd is None or (self._size + len(data) > self.max_size
                                and self._records_in_file > 0):
            self._open_new()
            self._records_in_file = 0
        offset = self._append(data)
        self._records_in_file += 1
        assert self._name is not None
        return Stored(self._name, offset, len(data))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WarcStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Member:
    """One whole gzip member of a WARC file: where it is and its WARC headers."""

    offset: int
    length: int
    headers: dict[str, str]
    rec_type: str


def scan_members(path: Path, start: int = 0) -> tuple[list[Member], int]:
    """Walk the gzip members of ``path`` from ``start``; return the whole records found and
    the offset where the last whole one ends (a torn tail starts there)."""
    data = memoryview(Path(path).read_bytes())
    members: list[Member] = []
    pos = start
    while pos < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        head = b""
        size = 0
        p = pos
        try:
            # feed in blocks: slicing the rest of the file per member would be quadratic
            while not d.eof and p < len(data):
                block = data[p:p + 65536]
                out = d.decompress(block)
                if len(head) < 65536:
                    head += out[:65536]
                size += len(out)
                p += len(block)
        except zlib.error:
            break
        if not d.eof:
            break
        used = p - pos - len(d.unused_data)
        fields_raw, sep, _ = head.partition(b"\r\n\r\n")
        if not sep or not fields_raw.startswith(b"WARC/"):
            break
        fields: dict[str, str] = {}
        for line in fields_raw.decode("utf-8", "replace").split("\r\n")[1:]:
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()
        try:
            if size - len(fields_raw) - 4 < int(fields.get("Content-Length", "-1")):
                break
        except ValueError:
            break
        members.append(Member(pos, used, fields, fields.get("WARC-Type", "")))
        pos += used
    return members, pos


