"""WARC files of raw captures: reading them back (and, for the crawler, writing them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from kbharvest.errors import InputError

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")

# Our own WARC headers carrying archive provenance (the crawler writes them).
H_ARCHIVE = "WARC-KB-Archive"
H_REQUESTED_TS = "WARC-KB-Requested-Timestamp"
H_SERVED_TS = "WARC-KB-Served-Timestamp"
H_CDX_DIGEST = "WARC-KB-CDX-Digest"


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
                )
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        raise InputError(str(path), f"not a readable WARC file ({exc})") from exc
