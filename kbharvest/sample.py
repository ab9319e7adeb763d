"""The shipped sample: ``snapshots/kbharvest-sample.warc.gz`` built from the made-up fixture pages.

Run ``python -m kbharvest.sample`` in a source checkout to rebuild it. It takes every page of
``tests/golden/`` (made-up content in every layout: classic, 2010, help, topic, FTP text, MSDN
CD, markdown, flattened text, and non-article pages), gives each an archived URL and capture
time fitting its era, adds two later revisions and an unchanged recapture of one article, an
archived 404 and a redirect, and writes them as WARC response records with the crawler's
provenance headers (:mod:`kbharvest.warcstore`). The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import io
import json
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from warcio.warcwriter import WARCWriter

from kbharvest.warcstore import (
    H_ARCHIVE,
    H_CDX_DIGEST,
    H_REQUESTED_TS,
    H_SERVED_TS,
    CaptureRecord,
    build_record,
    sha1_base32,
)

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
OUT = ROOT / "snapshots" / "kbharvest-sample.warc.gz"
ARCHIVE = "web.archive.org"
_NS = uuid.UUID("6f1c1a52-6b1e-4c1e-9a57-4b6861727665")

# capture time and URL shape per layout (the eras the templates were live)
_ERA = {
    "kb-classic": ("2010{n:02d}15{n:02d}3000", "http://support.microsoft.com/kb/{kb}/{lang}"),
    "kb-2010": ("2013{n:02d}0210{n:02d}00", "http://support.microsoft.com/kb/{kb}"),
    "help": ("2019{n:02d}2008{n:02d}00", "https://support.microsoft.com/{lang}/help/{kb}"),
    "topic": ("2023{n:02d}1111{n:02d}00",
              "https://support.microsoft.com/{lang}/topic/update-{kb}-{guid}"),
    "ftp-txt": ("2003{n:02d}0512{n:02d}00", "http://support.microsoft.com/support/kb/articles/"
                                           "Q{q3}/{q2}/{q1}.asp"),
    "ftp-htm": ("2001{n:02d}0909{n:02d}00", "http://support.microsoft.com/support/kb/articles/"
                                           "Q{q3}/{q2}/{q1}.asp"),
    "markdown": ("2021{n:02d}0107{n:02d}00",
                 "https://github.com/MicrosoftDocs/SupportArticles-docs/kb{kb}.md"),
    "text": ("2012{n:02d}1418{n:02d}00", "http://support.microsoft.com/kb/{kb}"),
}
_TYPES = {".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
          ".txt": "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class SampleCapture:
    """One capture of the sample: URL, requested and served time, HTTP status, body."""

    url: str
    requested_ts: str
    served_ts: str
    status: int
    content_type: str
    body: bytes
    location: str | None = None


def _url(template: str, kb: int | None, lang: str | None, n: int, name: str) -> str:
    shape = _ERA.get(template, _ERA["text"])[1]
    kb = kb or 100000 + n
    q = f"{kb:06d}"
    guid = uuid.uuid5(_NS, name)
    return shape.format(kb=kb, lang=(lang or "en-us").lower(), guid=guid,
                        q3=q[:3], q2=q[3:4], q1=q[4:])


def _ts(template: str, n: int) -> str:
    return _ERA.get(template, _ERA["text"])[0].format(n=1 + n % 12)


def _revise(body: bytes, review: str, revision: str, extra: str) -> bytes:
    """A later revision of a classic page: new Last Review date, revision, one more sentence."""
    text = body.decode("utf-8")
    sep = r"(?:\s|:|<[^>]+>)*"  # "Last Review: …" or "<td>Last Review</td><td>:</td><td>…"
    text, n1 = re.subn(rf"(Last Review{sep})[A-Z][a-z]+ \d{{1,2}}, \d{{4}}",
                       lambda m: m.group(1) + review, text, count=1)
    text, n2 = re.subn(rf"(Revision{sep})\d+\.\d+",
                       lambda m: m.group(1) + revision, text, count=1)
    if not (n1 and n2):
        raise ValueError("the page to revise has no Last Review / Revision line")
    text = re.sub(r"(</p>)", extra + r"\1", text, count=1)
    return text.encode("utf-8")


def sample_captures(golden: Path = GOLDEN) -> list[SampleCapture]:
    """Every capture of the sample, in the order they are written."""
    pages = sorted(p for p in golden.iterdir()
                   if p.suffix in _TYPES and not p.name.startswith((".", "README")))
    caps: list[SampleCapture] = []
    for n, page in enumerate(pages):
        expected = page.with_name(page.name.rsplit(".", 1)[0] + ".expected.json")
        meta = json.loads(expected.read_text(encoding="utf-8")) if expected.exists() else {}
        template = meta.get("template") or "kb-classic"
        url = _url(template, meta.get("kb_id"), meta.get("language"), n, page.stem)
        if page.stem.startswith("reject-"):
            url = f"http://support.microsoft.com/kb/{300000 + n}"
        ts = _ts(template, n)
        if page.stem == "classic-en-wayback-replay":  # the same revision, seen a month earlier
            ts = "20100112000000"
        caps.append(SampleCapture(url, ts, ts, 200, _TYPES[page.suffix], page.read_bytes()))

    # one article captured again: two later revisions and an unchanged recapture
    base = golden / "classic-en-hotfix.html"
    if base.exists():
        body = base.read_bytes()
        url = "http://support.microsoft.com/kb/979612/en-us"
        rev2 = _revise(body, "March 3, 2010", "3.0",
                       " This issue also occurs when the catalog is stored on a mirrored volume.")
        rev3 = _revise(rev2, "September 21, 2011", "4.1",
                       " A later hotfix is not required for this issue.")
        caps += [
            SampleCapture(url, "20100320000000", "20100318120000", 200, _TYPES[".html"], rev2),
            SampleCapture(url, "20111001000000", "20111003083000", 200, _TYPES[".html"], rev3),
            SampleCapture(url, "20120101000000", "20120105101500", 200, _TYPES[".html"], rev3),
        ]
    # archived non-pages: a 404 the archive kept, a redirect to the support home page
    caps += [
        SampleCapture("http://support.microsoft.com/kb/999999", "20150101000000",
                      "20150101000000", 404, "text/html", b"<html><body><h1>Not Found</h1>"
                      b"<p>The requested article does not exist.</p></body></html>"),
        SampleCapture("http://support.microsoft.com/kb/979612", "20210601000000",
                      "20210601000000", 302, "text/html", b"",
                      location="https://support.microsoft.com/"),
    ]
    return caps


def _warcinfo() -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    record = writer.create_warcinfo_record(OUT.name, {
        "software": "kbharvest (python -m kbharvest.sample)",
        "format": "WARC File Format 1.1",
        "description": "made-up KB pages in every layout, for trying kbharvest out",
    })
    record.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(_NS, 'info')}>")
    record.rec_headers.replace_header("WARC-Date", "2026-01-01T00:00:00Z")
    writer.write_record(record)
    return buf.getvalue()


def build_sample(out: Path = OUT, golden: Path = GOLDEN) -> int:
    """Write the sample WARC; return the number of captures in it."""
    caps = sample_captures(golden)
    chunks = [_warcinfo()]
    for i, cap in enumerate(caps):
        headers = [("Content-Type", cap.content_type)]
        if cap.location:
            headers.append(("Location", cap.location))
        chunks.append(build_record(CaptureRecord(
            url=cap.url, timestamp=cap.served_ts, status=cap.status, headers=headers,
            body=cap.body,
            extra={
                "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(_NS, f'{i} {cap.url} {cap.served_ts}')}>",
                H_ARCHIVE: ARCHIVE,
                H_REQUESTED_TS: cap.requested_ts,
                H_SERVED_TS: cap.served_ts,
                H_CDX_DIGEST: sha1_base32(cap.body),
            })))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(chunks))
    return len(caps)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    print(f"wrote {build_sample(target)} captures to {target}")
