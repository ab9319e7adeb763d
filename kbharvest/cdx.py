"""CDX answers and queries: the Wayback Machine's JSON arrays and text lines, pywb's JSON lines.

``parse_cdx`` turns any of the three answer forms into :class:`CdxRow` objects plus the
resume key, if any; :class:`CdxClient` pages through a query with ``resumeKey`` (never
``page=``, which drops rows) through the one network seam, :mod:`kbharvest.http`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kbharvest.errors import CdxError

if TYPE_CHECKING:
    from kbharvest.http import ArchiveSession

#: The fields we ask for; ``urlkey`` must be among them for ``resumeKey`` to work.
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# pywb's JSON lines name some fields differently.
_PYWB_NAMES = {"url": "original", "mime": "mimetype", "status": "statuscode"}


@dataclass(frozen=True)
class CdxRow:
    """One capture as the CDX index lists it (strings as the archive printed them)."""

    urlkey: str
    timestamp: str
    original: str
    mimetype: str = ""
    statuscode: str = ""
    digest: str = ""
    length: str = ""

    @property
    def is_revisit(self) -> bool:
        """A revisit row: same payload as an earlier capture (status ``-`` on the Wayback)."""
        return self.mimetype == "warc/revisit" or self.statuscode in ("-", "")

    @property
    def status(self) -> int | None:
        """The archived HTTP status, None for revisits and unknowns."""
        return int(self.statuscode) if self.statuscode.isdigit() else None


@dataclass(frozen=True)
class CdxPage:
    """One answer of the CDX server: its rows, the key to ask for more, and its form."""

    rows: list[CdxRow]
    resume_key: str | None
    form: str  # "json-array", "json-lines" (pywb) or "text"


def _row(fields: dict[str, str]) -> CdxRow | None:
    ts = str(fields.get("timestamp", "")).strip()
    original = str(fields.get("original", "")).strip()
    if not (len(ts) >= 4 and ts.isdigit()) or not original:
        return None
    ts = (ts + "00000000000000")[:14]  # short timestamps name the start of their period
    return CdxRow(
        urlkey=str(fields.get("urlkey", "")),
        timestamp=ts,
        original=original,
        mimetype=str(fields.get("mimetype", "")),
        statuscode=str(fields.get("statuscode", "")),
        digest=str(fields.get("digest", "")),
        length=str(fields.get("length", "")),
    )


def parse_cdx(text: str, fields: tuple[str, ...] = FIELDS) -> CdxPage:
    """Parse a CDX answer in any of the three forms.

    ``fields`` names the columns of text answers (the ``fl`` asked for). Raises CdxError
    when the text is none of the forms (an HTML error page, say).
    """
    stripped = text.strip()
    if not stripped:
        return CdxPage([], None, "text")
    if stripped.startswith("["):
        return _parse_json_array(stripped)
    if stripped.startswith("{"):
        return _parse_json_lines(stripped)
    if stripped.startswith("<"):
        raise CdxError("the archive answered the CDX query with an HTML page, not CDX rows")
    return _parse_text(text, fields)


def _parse_json_array(text: str) -> CdxPage:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CdxError(f"malformed CDX JSON answer ({exc.msg})") from exc
    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        raise CdxError("CDX JSON answer is not an array of arrays")
    if not data:
        return CdxPage([], None, "json-array")
    header = [str(h) for h in data[0]]
    body = data[1:]
    resume = None
    # showResumeKey: the rows end with [] and then [key]
    if len(body) >= 2 and body[-2] == [] and len(body[-1]) == 1:
        resume = str(body[-1][0]) or None
        body = body[:-2]
    rows = []
    for r in body:
        if not r:
            continue
        row = _row(dict(zip(header, (str(v) for v in r), strict=False)))
        if row is not None:
            rows.append(row)
    return CdxPage(rows, resume, "json-array")


def _parse_json_lines(text: str) -> CdxPage:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CdxError(f"malformed CDX JSON line ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise CdxError("CDX JSON line is not an object")
        fields = {_PYWB_NAMES.get(k, k): v for k, v in obj.items()}
        row = _row(fields)
        if row is not None:
            rows.append(row)
    return CdxPage(rows, None, "json-lines")


def _parse_text(text: str, fields: tuple[str, ...]) -> CdxPage:
    lines = text.splitlines()
    resume = None
    # showResumeKey: after the rows, a blank line and the key
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) >= 2 and not lines[-2].strip():
        resume = lines[-1].strip() or None
        lines = lines[:-2]
    rows = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(fields):
            raise CdxError(f"CDX text line has {len(parts)} fields, expected {len(fields)}")
        row = _row(dict(zip(fields, parts, strict=True)))
        if row is not None:
            rows.append(row)
    return CdxPage(rows, resume, "text")


class CdxClient:
    """Runs CDX queries against one archive through an :class:`ArchiveSession`."""

    def __init__(self, session: ArchiveSession, page_size: int = 5000) -> None:
        self.session = session
        self.page_size = page_size

    def params(self, url: str, match_type: str, resume_key: str | None,
               limit: int | None) -> dict[str, str]:
        p = {"url": url, "matchType": match_type, "output": "json"}
        if self.session.archive.flavor == "pywb":
            # pywb knows neither resumeKey nor the Wayback field names in ``fl``: ask for
            # everything, unpaged (its JSON lines name their own fields)
            return p
        p["fl"] = ",".join(FIELDS)
        if limit:
            p["limit"] = str(limit)
            p["showResumeKey"] = "true"
        if resume_key:
            p["resumeKey"] = resume_key
        return p

    def fetch_page(self, url: str, match_type: str, resume_key: str | None = None) -> CdxPage:
        """One page of answers. Archives without ``resumeKey`` (pywb) are asked again
        without ``limit`` when a page comes back full, so no row is ever cut off."""
        params = self.params(url, match_type, resume_key, self.page_size)
        page = parse_cdx(self.session.get_cdx(params))
        if page.resume_key is None and len(page.rows) >= self.page_size:
            params = self.params(url, match_type, resume_key, None)
            page = parse_cdx(self.session.get_cdx(params))
        return page

    def iter_pages(self, url: str, match_type: str,
                   resume_key: str | None = None) -> Iterator[CdxPage]:
        """Every page of a query, starting at ``resume_key``; stops when no key comes back
        (or the same key comes back twice, which would loop)."""
        seen: set[str] = set()
        while True:
            page = self.fetch_page(url, match_type, resume_key)
            yield page
            if page.resume_key is None or page.resume_key in seen:
                return
            seen.add(page.resume_key)
            resume_key = page.resume_key
