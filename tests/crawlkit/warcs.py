"""Building WARC files of archived responses for pywb and for import tests."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Capture:
    """One archived response as an archive holds it."""

    url: str
    timestamp: str  # 14 digits
    body: bytes = b""
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/html; charset=utf-8"
    revisit: bool = False  # listed as warc/revisit in the CDX (the fake server only)


def write_warc(path: Path, captures: list[Capture]) -> Path:
    """Write ``captures`` as gzip WARC response records."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for c in captures:
            reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}.get(
                c.status, "Status")
            headers = [("Content-Type", c.content_type), ("Content-Length", str(len(c.body))),
                       *c.headers]
            http = StatusAndHeaders(f"{c.status} {reason}", headers, protocol="HTTP/1.1")
            t = c.timestamp
            date = f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"
            rec = writer.create_warc_record(c.url, "response", payload=io.BytesIO(c.body),
                                            http_headers=http,
                                            warc_headers_dict={"WARC-Date": date})
            writer.write_record(rec)
    return path
