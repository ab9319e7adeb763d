"""The harvest: plan (CDX) → choose captures → fetch raw (``id_``) → store (WARC + ledger).

Resumable and idempotent: every step is recorded in the ledger as it completes, WARC
records are written whole or cut off on the next start, and nothing stored is asked for
again. ``import_warcs`` brings captures harvested elsewhere into the same store.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from kbharvest import __version__
from kbharvest.cdx import CdxClient, CdxRow
from kbharvest.errors import FetchError, InputError, KbharvestError, OffsiteRequestError
from kbharvest.http import DEFAULT_ARCHIVE, ArchiveSession, HttpConfig, Response
from kbharvest.kbids import (
    IdRange,
    PrefixQuery,
    id_prefix_targets,
    in_shard,
    language_matches,
    non_article_url_reason,
    parse_id_file,
    parse_id_spec,
    parse_kb_url,
    queries_for_prefix,
    topic_queries,
)
from kbharvest.ledger import Ledger
from kbharvest.warcstore import (
    DEFAULT_MAX_WARC_SIZE,
    H_ARCHIVE,
    H_CAPTURE,
    H_CDX_DIGEST,
    H_DIGEST_MATCH,
    H_KB_ID,
    H_LANGUAGE,
    H_NOTE,
    H_REDIRECTS,
    H_REQUESTED_TS,
    H_SERVED_TS,
    CaptureRecord,
    WarcStore,
    scan_members,
    sha1_base32,
)

CAPTURE_MODES = ("all", "latest", "earliest")
_OWN_WARC = re.compile(r"^kbharvest[A-Za-z0-9._-]*-\d{14}-\d+-\d{5}\.warc\.gz$")
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class FetchOptions:
    """What to harvest and how; built from command-line words by :meth:`from_args`."""

    ranges: list[IdRange] = field(default_factory=list)
    discover: bool = False
    lang: str | tuple[str, ...] = "en-us"
    captures: str = "all"
    shard: tuple[int, int] | None = None
    snapshots: Path = Path("snapshots")
    archive: str = DEFAULT_ARCHIVE
    max_warc_size: int = DEFAULT_MAX_WARC_SIZE
    shared_digest_ids: int = 3  # a payload served for this many KB ids is a soft 404
    max_redirects: int = 8
    max_attempts: int = 5  # runs that may retry a failed capture
    refresh: bool = False  # ask finished CDX queries again (for captures made since)
    fsync: bool = True

    @classmethod
    def from_args(cls, ids: Iterable[str] = (), from_file: Path | None = None,
                  lang: str = "en-us", shard: str | None = None, **kw: Any) -> FetchOptions:
        """Validate ids (``977153``, ``KB977153``, ``Q123456``, ``2000000-2000100``), the id
        file, the language (``en-us``, ``all`` or ``de-de,fr-fr``) and the shard (``k/n``)."""
        from kbharvest.kbids import parse_shard

        ranges = [parse_id_spec(s) for s in ids]
        if from_file is not None:
            try:
                text = Path(from_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(str(from_file), f"cannot read id file ({exc.strerror})") from exc
            ranges += parse_id_file(text.splitlines(), str(from_file))
        if not ranges and not kw.get("discover"):
            raise InputError("fetch", "give KB ids or ranges, --from-file, or --discover")
        langs: str | tuple[str, ...] = lang.strip().lower()
        if langs != "all":
            parts = tuple(p.strip() for p in str(langs).split(",") if p.strip())
            if not parts or not all(re.fullmatch(r"[a-z]{2}(-[a-z]{2,4})?", p) for p in parts):
                raise InputError(lang, "language must be like en-us, a list de-de,fr-fr, or all")
            langs = parts[0] if len(parts) == 1 else parts
        if kw.get("captures", "all") not in CAPTURE_MODES:
            raise InputError(kw["captures"], f"captures must be one of {', '.join(CAPTURE_MODES)}")
        return cls(ranges=ranges, lang=langs, shard=parse_shard(shard) if shard else None, **kw)

    @property
    def warc_prefix(self) -> str:
        return f"kbharvest-s{self.shard[0]}of{self.shard[1]}" if self.shard else "kbharvest"

    def wants(self, kb_id: int) -> bool:
        if not in_shard(kb_id, self.shard):
            return False
        return not self.ranges or any(kb_id in r for r in self.ranges)


class Progress(Protocol):
    """What the crawl reports as it goes (the CLI draws it; tests ignore it)."""

    def phase(self, name: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def update(self, **counts: Any) -> None: ...
    def wait(self, kind: str, seconds: float) -> None: ...


class NullProgress:
    def phase(self, name: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def update(self, **counts: Any) -> None:
        pass

    def wait(self, kind: str, seconds: float) -> None:
        pass


@dataclass
class FetchSummary:
    """What a run did (this run) and where the store stands (all runs)."""

    queries: int = 0
    cdx_pages: int = 0
    listed: int = 0  # CDX rows kept this run
    fetched: int = 0
    rejected: int = 0
    duplicate: int = 0
    failed: int = 0
    recovered: int = 0  # records found whole in a WARC after a crash
    requests: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    rate_limited: int = 0
    waited: float = 0.0
    elapsed: float = 0.0
    totals: dict[str, int] = field(default_factory=dict)
    ids_with_captures: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    snapshots: str = ""


# --- start-up repair ------------------------------------------------------------------------


def repair_store(ledger: Ledger, directory: Path) -> int:
    """Make the WARC files and the ledger agree after a crash.

    Whole records past a file's committed end (written, but the ledger step was lost) are
    entered in the ledger; a torn record at a file's end is cut off. Returns how many records
    were recovered. Only files kbharvest wrote are touched.
    """
    recovered = 0
    for path in sorted(Path(directory).glob("*.warc.gz")):
        committed = ledger.committed_end(path.name)
        if committed is None and not _OWN_WARC.match(path.name):
            continue
        size = path.stat().st_size
        start = committed or 0
        if size <= start:
            continue
        members, end = scan_members(path, start)
        for m in members:
            if m.rec_type != "response" or H_CAPTURE not in m.headers:
                continue
            ts, _, url = m.headers[H_CAPTURE].partition(" ")
            row = ledger.find(url, ts)
            if row is not None and row["state"] == "fetched":
                continue
            payload = m.headers.get("WARC-Payload-Digest", "").removeprefix("sha1:")
            served = m.headers.get(H_SERVED_TS)
            with ledger.tx():
                fields = dict(state="fetched", warc_file=path.name, warc_offset=m.offset,
                              warc_length=m.length, body_digest=payload or None,
                              served_ts=served, served_url=m.headers.get("WARC-Target-URI"),
                              reason="recovered from WARC after a crash")
                kb = m.headers.get(H_KB_ID)
                if row is None:
                    ledger.insert(url=url, timestamp=ts, kb_id=int(kb) if kb else None,
                                  language=m.headers.get(H_LANGUAGE), origin="recovered",
                                  **fields)
                else:
                    ledger.update(row["id"], **fields)
                ledger.note_file(path.name, m.offset + m.length)
            recovered += 1
        if end == 0:  # created, then killed before its warcinfo was whole
            path.unlink()
            continue
        if end < size:
            with open(path, "r+b") as fh:
                fh.truncate(end)
        if committed is None:
            with ledger.tx():
                ledger.note_file(path.name, end)
    return recovered


# --- planning: CDX queries → candidates ---------------------------------------------------------


def plan_queries(opts: FetchOptions) -> list[PrefixQuery]:
    """Every CDX query the options need, in a stable order, without repeats."""
    queries: list[PrefixQuery] = []
    if opts.ranges:
        for prefix, digits in id_prefix_targets(opts.ranges, opts.shard):
            queries += queries_for_prefix(prefix, opts.lang, digits)
    elif opts.discover:
        queries += queries_for_prefix("", opts.lang)
    if opts.discover:
        queries += topic_queries(opts.lang)
    return list(dict.fromkeys(queries))


def _keep_row(row: CdxRow) -> dict[str, Any] | None:
    # Every row of a KB URL form is kept, wanted by this run or not: a query's answer then
    # does not depend on the options, so a finished query never needs asking again for
    # another range, language or shard. Selection applies the options.
    kb = parse_kb_url(row.original)
    if kb is None:
        return None
    return {"url": row.original, "timestamp": row.timestamp, "kb_id": kb.kb_id,
            "language": kb.language, "form": kb.form, "mimetype": row.mimetype,
            "statuscode": row.statuscode, "digest": row.digest, "length": row.length}


def wanted(row: Any, opts: FetchOptions) -> bool:
    """Whether a listed capture belongs to this run (ids, shard, language, discovery)."""
    if row["kb_id"] is None:
        return opts.discover
    return opts.wants(row["kb_id"]) and language_matches(row["language"], opts.lang)


def run_cdx(ledger: Ledger, cdx: CdxClient, opts: FetchOptions, summary: FetchSummary,
            progress: Progress) -> None:
    queries = plan_queries(opts)
    summary.queries = len(queries)
    if opts.refresh:
        # ask every query again from the start for captures made since; rows already
        # listed are ignored on insert. (A run stopped mid-refresh resumes without it.)
        with ledger.tx():
            for q in queries:
                ledger.db.execute("UPDATE queries SET done=0, resume_key=NULL WHERE url=? "
                                  "AND match_type=?", (q.url, q.match_type))
    progress.phase("CDX queries", len(queries))
    for q in queries:
        resume, done = ledger.query_state(q.url, q.match_type)
        if done:
            progress.advance()
            continue
        for page in cdx.iter_pages(q.url, q.match_type, resume):
            kept = [r for r in (_keep_row(row) for row in page.rows) if r is not None]
            summary.listed += ledger.save_page(q.url, q.match_type, kept, page.resume_key,
                                               done=page.resume_key is None)
            summary.cdx_pages += 1
            progress.update(listed=summary.listed)
        # a repeated key ends the paging without done: mark the query done explicitly
        with ledger.tx():
            ledger.db.execute("UPDATE queries SET done=1 WHERE url=? AND match_type=?",
                              (q.url, q.match_type))
        progress.advance()


# --- choosing captures ------------------------------------------------------------------------


def _row_rank(row: Any) -> tuple[int, str]:
    # Prefer a plain 200 over a revisit over a redirect; then the earliest capture.
    sc = row["statuscode"] or ""
    kind = 0 if sc == "200" else 1 if sc in ("-", "") or row["mimetype"] == "warc/revisit" else 2
    return kind, row["timestamp"]


def _is_archived_error(row: Any) -> bool:
    sc = row["statuscode"] or ""
    return sc.isdigit() and not (sc.startswith("2") or sc.startswith("3"))


def select_captures(ledger: Ledger, opts: FetchOptions) -> dict[str, int]:
    """Turn candidates into queued captures per ``opts.captures`` (idempotent).

    Captures the CDX listing alone shows to be no article (archived error statuses, one
    payload listed for many ids) are rejected without a fetch; returns those, by reason.
    """
    before = {r["reason"]: r["n"] for r in ledger.rows(
        "SELECT reason, count(*) AS n FROM captures WHERE state='rejected' GROUP BY reason")}
    with ledger.tx():
        # archived errors need no fetch: the CDX already says what they are
        for row in ledger.rows("SELECT id, statuscode FROM captures WHERE state='candidate' "
                               "AND statuscode GLOB '[0-9]*' AND substr(statuscode,1,1) "
                               "NOT IN ('2','3')"):
            ledger.update(row["id"], state="rejected",
                          reason=f"archived HTTP status {row['statuscode']}")
        # one payload listed for many different ids is an error page, not an article
        for row in ledger.rows(
                "SELECT digest, count(DISTINCT kb_id) AS n FROM captures WHERE digest != '' "
                "AND statuscode = '200' AND kb_id IS NOT NULL GROUP BY digest "
                "HAVING n >= ?", (opts.shared_digest_ids,)):
            ledger.db.execute(
                "UPDATE captures SET state='rejected', reason=? WHERE digest=? AND "
                "state IN ('candidate','queued')",
                (f"payload digest shared by {row['n']} KB ids (soft 404 or error page)",
                 row["digest"]))
        # failed captures get another chance on a new run, a bounded number of times
        for row in ledger.rows("SELECT * FROM captures WHERE state='failed' AND attempts < ?",
                               (opts.max_attempts,)):
            if wanted(row, opts):
                ledger.update(row["id"], state="queued")
        if opts.captures == "all":
            _select_all(ledger, opts)
        else:
            for row in ledger.rows("SELECT DISTINCT kb_id FROM captures WHERE kb_id IS NOT NULL"):
                if opts.wants(row["kb_id"]):
                    _select_next(ledger, opts, row["kb_id"])
            _select_all(ledger, opts, topics_only=True)
    after = {r["reason"]: r["n"] for r in ledger.rows(
        "SELECT reason, count(*) AS n FROM captures WHERE state='rejected' GROUP BY reason")}
    return {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}


def _same_as_key(row: Any) -> tuple[str, ...]:
    # captures with equal keys give the same result when fetched: equal payloads, or for
    # redirects (whose bodies are often empty) equal payloads at the same URL
    if _row_rank(row)[0] == 2:
        return (row["digest"], row["url"].split("://", 1)[-1].lower())
    return (row["digest"],)


def _select_all(ledger: Ledger, opts: FetchOptions, topics_only: bool = False) -> None:
    rows = ledger.rows("SELECT * FROM captures" + (" WHERE kb_id IS NULL" if topics_only else ""))
    groups: dict[tuple, list] = {}
    for r in rows:
        if not wanted(r, opts):
            continue
        key = (r["kb_id"] if r["kb_id"] is not None else r["url"],
               *(_same_as_key(r) if r["digest"] else (f"{r['url']} {r['timestamp']}",)))
        groups.setdefault(key, []).append(r)
    for members in groups.values():
        if any(m["state"] != "candidate" for m in members):
            continue
        best = min((m for m in members if not _is_archived_error(m)), key=_row_rank, default=None)
        if best is not None:
            ledger.update(best["id"], state="queued")


def _select_next(ledger: Ledger, opts: FetchOptions, kb_id: int) -> None:
    rows = [r for r in ledger.rows("SELECT * FROM captures WHERE kb_id=?", (kb_id,))
            if wanted(r, opts)]
    if any(r["state"] in ("fetched", "queued") for r in rows):
        return
    if any(r["state"] == "failed" and r["attempts"] < opts.max_attempts for r in rows):
        return
    tried = {_same_as_key(r) for r in rows if r["state"] != "candidate" and r["digest"]}
    cands = [r for r in rows if r["state"] == "candidate" and not _is_archived_error(r)
             and _same_as_key(r) not in tried]
    if not cands:
        return
    # by time alone: a redirect that leads to the article counts as that moment's version;
    # one that leads nowhere is rejected and the next candidate is queued
    if opts.captures == "latest":
        best = max(cands, key=lambda r: (r["timestamp"], -_row_rank(r)[0]))
    else:
        best = min(cands, key=lambda r: (r["timestamp"], _row_rank(r)[0]))
    ledger.update(best["id"], state="queued")


# --- fetching one capture -----------------------------------------------------------------------


@dataclass
class Outcome:
    state: str  # fetched | rejected | duplicate | failed
    reason: str | None = None
    response: Response | None = None
    served_ts: str | None = None
    served_url: str | None = None
    chain: list[dict[str, Any]] = field(default_factory=list)


def _memento_ts(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).strftime("%Y%m%d%H%M%S")
    except (TypeError, ValueError):
        return None


def _same_page(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        p = urlsplit(u if "://" in u else "http://" + u)
        return f"{(p.hostname or '').removeprefix('www.')}{p.path}?{p.query}".lower()
    return norm(a) == norm(b)


def follow(session: ArchiveSession, url: str, ts: str, max_redirects: int) -> Outcome:
    """Replay a capture raw, following the archive's own redirects (inexact timestamps) and
    archived (historical) redirects inside the archive; the chain is kept, loops stop."""
    archive = session.archive
    chain: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for _ in range(max_redirects + 1):
        key = (url.split("://", 1)[-1].lower(), ts)
        if key in seen:
            return Outcome("rejected", "redirect loop", chain=chain)
        seen.add(key)
        resp = session.get_replay(ts, url)
        memento = _memento_ts(resp.header("Memento-Datetime"))
        if resp.status not in _REDIRECTS:
            return Outcome("fetched", response=resp, served_ts=memento or ts, served_url=url,
                           chain=chain)
        loc = resp.header("Location")
        if not loc:
            return Outcome("rejected", f"HTTP {resp.status} redirect without a Location",
                           chain=chain)
        absolute = urljoin(resp.url, loc)
        replay = archive.parse_replay_url(absolute)
        if memento is None and replay is not None:
            # the archive's own redirect: "found capture at <ts>"
            chain.append({"kind": "archive", "url": url, "requested": ts, "served": replay[0],
                          "to": replay[1],
                          "reason": resp.header("X-Archive-Redirect-Reason") or ""})
            ts, url = replay
            continue
        if memento is None:
            return Outcome("rejected", f"archive redirected outside its replay ({absolute})",
                           chain=chain)
        # an archived redirect: follow it inside the archive at the same moment; a Location
        # the archive did not rewrite is relative to the original page, not to the archive
        if replay is not None:
            target_ts, target = replay
        else:
            target_ts, target = memento, urljoin(url, loc)
        chain.append({"kind": "archived", "url": url, "timestamp": memento,
                      "status": resp.status, "to": target})
        bad = non_article_url_reason(target)
        if bad:
            return Outcome("rejected", bad, chain=chain)
        ts, url = target_ts, target
    return Outcome("rejected", f"more than {max_redirects} redirects", chain=chain)


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_BAD_TITLES = [
    (re.compile(r"page not found|404 error|\b404\b|cannot be found|no longer available", re.I),
     "not-found page"),
    (re.compile(r"sign in|log ?in to|signin", re.I), "sign-in page"),
    (re.compile(r"select (your )?(country|region|language|locale)|choose your (country|region|language)", re.I),
     "locale chooser page"),
    (re.compile(r"^\s*(microsoft support|help and learning|microsoft help and support|"
                r"support home|microsoft product support services)\s*$", re.I),
     "support home page"),
]


# Any of these and the page is kept whatever its title says (KB articles about HTTP 404
# errors and sign-in problems exist).
_ARTICLE_SIGNS = re.compile(rb"loadTOCNode|awa-kb_id|ms\.kb_id|name=\"?kbid|Article ID|"
                            rb"\bSYMPTOMS\b|\bCAUSE\b|\bRESOLUTION\b|ocpArticleContent", re.I)


def page_reject_reason(body: bytes) -> str | None:
    """A page that is certainly not an article (empty, not-found, sign-in, locale chooser,
    the support home page), judged by cheap signs; None when it may be an article."""
    if not body.strip():
        return "empty body"
    if _ARTICLE_SIGNS.search(body[:300_000]):
        return None
    m = _TITLE.search(body[:200_000])
    if m:
        title = re.sub(r"\s+", " ", m.group(1).decode("utf-8", "replace")).strip()
        for pattern, reason in _BAD_TITLES:
            if pattern.search(title):
                return reason
    return None


_ARTICLE_ID = re.compile(rb"(?:Article ID|Article Number|KB Article|Numero articolo|"
                         rb"Artikelnummer|ID de l'article)\s*:?\s*(?:KB)?\s*(\d{5,8})", re.I)
_KB_IN_TITLE = re.compile(r"\bKB\s?(\d{5,8})\b")


def kb_id_from_page(body: bytes, name: str, url: str) -> int | None:
    """The KB id a page names itself (``/topic/`` URLs carry none).

    Asks the parser first; falls back to an "Article ID: N" line or a KB number in the
    title, which is enough while the parser cannot read a page's template yet.
    """
    try:
        from kbharvest.parse import parse_document

        article = parse_document(body, name=name, url=url)
        if article.kb_id:
            return article.kb_id
    except (KbharvestError, LookupError, ValueError, TypeError):
        pass
    m = _ARTICLE_ID.search(body)
    if m:
        return int(m.group(1))
    t = _TITLE.search(body[:200_000])
    if t:
        m2 = _KB_IN_TITLE.search(t.group(1).decode("utf-8", "replace"))
        if m2:
            return int(m2.group(1))
    return None


# --- the crawl ----------------------------------------------------------------------------------


class Crawler:
    """One harvest run: owns the ledger, the WARC store and the session for its duration."""

    def __init__(self, opts: FetchOptions, config: HttpConfig | None = None,
                 session: ArchiveSession | None = None, progress: Progress | None = None) -> None:
        self.opts = opts
        self.progress = progress or NullProgress()
        self.session = session or ArchiveSession(opts.archive, config,
                                                 on_wait=self.progress.wait)
        self.summary = FetchSummary(snapshots=str(opts.snapshots))

    def run(self) -> FetchSummary:
        start = time.monotonic()
        opts = self.opts
        with Ledger(opts.snapshots) as ledger:
            self.ledger = ledger
            self.summary.recovered = repair_store(ledger, opts.snapshots)
            ledger.meta("archive", self.session.archive.name)
            run_cdx(ledger, CdxClient(self.session), opts, self.summary, self.progress)
            for reason, n in select_captures(ledger, opts).items():
                key = reason.split(" (")[0]
                self.summary.rejected += n
                self.summary.rejected_reasons[key] = self.summary.rejected_reasons.get(key, 0) + n
            info = {"operator": self.session.config.contact or "",
                    "description": f"KB captures harvested from {self.session.archive.name}",
                    "http-header-user-agent": self.session.user_agent,
                    "software": f"kbharvest/{__version__}"}
            with WarcStore(opts.snapshots, opts.warc_prefix, opts.max_warc_size, info,
                           fsync=opts.fsync) as store:
                self.store = store
                self._fetch_all()
            self._finish(start)
        return self.summary

    def _fetch_all(self) -> None:
        ledger = self.ledger
        total = sum(wanted(r, self.opts) for r in ledger.iter_state("queued"))
        self.progress.phase("captures", total)
        while True:
            # queued by an earlier run with other options? then not this run's business
            batch = [r for r in ledger.iter_state("queued") if wanted(r, self.opts)]
            if not batch:
                return
            for row in batch:
                self._fetch_one(row)
                self.progress.advance()
                s = self.session.stats
                self.progress.update(fetched=self.summary.fetched, rejected=self.summary.rejected,
                                     failed=self.summary.failed, bytes=s.bytes,
                                     ids=self._ids_done())
                if self.opts.captures != "all" and row["kb_id"] is not None:
                    with ledger.tx():
                        _select_next(ledger, self.opts, row["kb_id"])

    def _ids_done(self) -> int:
        if self._ids is None:  # counted once, then kept up to date as captures are stored
            self._ids = {r[0] for r in self.ledger.db.execute(
                "SELECT DISTINCT kb_id FROM captures WHERE state='fetched'")}
        return len(self._ids)

    _ids: set[int] | None = None

    def _fetch_one(self, row: Any) -> None:
        ledger, opts = self.ledger, self.opts
        try:
            out = follow(self.session, row["url"], row["timestamp"], opts.max_redirects)
        except FetchError as exc:
            if not exc.retryable:
                self._settle(row, Outcome("rejected", exc.reason))
                return
            ledger.update(row["id"], state="failed", reason=exc.reason,
                          attempts=row["attempts"] + 1)
            self.summary.failed += 1
            self.summary.failed_reasons[exc.reason.split(" (gave up")[0]] = \
                self.summary.failed_reasons.get(exc.reason.split(" (gave up")[0], 0) + 1
            return
        except OffsiteRequestError as exc:
            self._settle(row, Outcome("rejected", str(exc)))
            return
        if out.state == "fetched":
            out = self._judge(row, out)
        self._settle(row, out)

    def _judge(self, row: Any, out: Outcome) -> Outcome:
        resp = out.response
        assert resp is not None and out.served_url is not None
        if resp.status != 200:
            if resp.header("Memento-Datetime"):
                return _as(out, "rejected", f"archived HTTP status {resp.status}")
            return _as(out, "rejected", f"archive answered HTTP {resp.status} (no capture)")
        reason = (non_article_url_reason(out.served_url) if out.chain else None) \
            or page_reject_reason(resp.body)
        if reason:
            return _as(out, "rejected", reason)
        return out

    def _settle(self, row: Any, out: Outcome) -> None:
        ledger, opts = self.ledger, self.opts
        chain = json.dumps(out.chain) if out.chain else None
        if out.state != "fetched":
            ledger.update(row["id"], state=out.state, reason=out.reason, chain=chain,
                          served_ts=out.served_ts, served_url=out.served_url)
            if out.state == "rejected":
                self.summary.rejected += 1
                key = (out.reason or "").split(" (")[0]
                self.summary.rejected_reasons[key] = self.summary.rejected_reasons.get(key, 0) + 1
            return
        resp = out.response
        assert resp is not None and out.served_url is not None and out.served_ts is not None
        body_digest = sha1_base32(resp.body)
        kb_id = row["kb_id"]
        served_kb = parse_kb_url(out.served_url)
        if served_kb is None or served_kb.kb_id is None:
            page_id = kb_id_from_page(resp.body, f"{out.served_url}@{out.served_ts}",
                                      out.served_url)
            if page_id is None and kb_id is None:
                self._settle(row, _as(out, "rejected", "page names no KB id"))
                return
            if page_id is not None and kb_id is not None and page_id != kb_id:
                self._settle(row, _as(out, "rejected",
                                      f"redirected to the page of KB{page_id}, not KB{kb_id}"))
                return
            kb_id = kb_id if kb_id is not None else page_id
        elif kb_id is None:
            kb_id = served_kb.kb_id
        elif served_kb.kb_id != kb_id:  # merged articles: one number now shows another's page
            self._settle(row, _as(out, "rejected", f"redirected to the page of "
                                  f"KB{served_kb.kb_id}, not KB{kb_id}"))
            return
        if kb_id is not None and not opts.wants(kb_id) and row["kb_id"] is None:
            self._settle(row, _as(out, "rejected", f"KB{kb_id} is outside this harvest"))
            return
        same = ledger.rows("SELECT id, kb_id FROM captures WHERE body_digest=? AND "
                           "state='fetched'", (body_digest,))
        if any(s["kb_id"] == kb_id for s in same):
            first = next(s["id"] for s in same if s["kb_id"] == kb_id)
            self._settle(row, _as(out, "duplicate", f"same payload as capture {first}"))
            self.summary.duplicate += 1
            return
        others = {s["kb_id"] for s in same} - {kb_id}
        if len(others) + 1 >= opts.shared_digest_ids:
            self._settle(row, _as(out, "rejected", f"payload served for {len(others) + 1} "
                                  "KB ids (soft 404 or error page)"))
            return
        match = None
        if row["digest"] and row["digest"] != "-":
            match = body_digest == row["digest"].removeprefix("sha1:").upper()
        extra = {
            H_ARCHIVE: self.session.archive.name,
            H_REQUESTED_TS: row["timestamp"],
            H_SERVED_TS: out.served_ts,
            H_CDX_DIGEST: row["digest"] or "",
            H_CAPTURE: f"{row['timestamp']} {row['url']}",
            H_DIGEST_MATCH: {None: "unknown", True: "yes", False: "no"}[match],
        }
        if kb_id is not None:
            extra[H_KB_ID] = str(kb_id)
        lang = row["language"] or (served_kb.language if served_kb else None)
        if lang:
            extra[H_LANGUAGE] = lang
        if out.chain:
            extra[H_REDIRECTS] = chain or ""
        if resp.encoding_note:
            extra[H_NOTE] = resp.encoding_note
        extra = {k: v for k, v in extra.items() if v}
        stored = self.store.write(CaptureRecord(out.served_url, out.served_ts, resp.status,
                                                resp.headers, resp.body, extra))
        ledger.commit_stored(row["id"], stored.file, stored.offset, stored.length,
                             kb_id=kb_id, served_ts=out.served_ts, served_url=out.served_url,
                             status=resp.status, body_digest=body_digest,
                             digest_match=None if match is None else int(match),
                             chain=chain, reason=None)
        self.summary.fetched += 1
        if self._ids is not None:
            self._ids.add(kb_id)

    def _finish(self, start: float) -> None:
        s, stats = self.summary, self.session.stats
        s.requests = dict(stats.requests)
        s.bytes, s.rate_limited, s.waited = stats.bytes, stats.rate_limited, stats.waited
        s.elapsed = time.monotonic() - start
        s.totals = self.ledger.counts()
        s.ids_with_captures = self._ids_done()


def _as(out: Outcome, state: str, reason: str) -> Outcome:
    return Outcome(state, reason, out.response, out.served_ts, out.served_url, out.chain)


def fetch(opts: FetchOptions, config: HttpConfig | None = None,
          progress: Progress | None = None) -> FetchSummary:
    """Harvest per ``opts`` into ``opts.snapshots``; safe to interrupt and to run again.

    Raises ArchiveBlockedError (connection refused), RateLimitedError (429s that do not
    stop), CdxError; everything already done stays done.
    """
    crawler = Crawler(opts, config, progress=progress)
    try:
        return crawler.run()
    finally:
        crawler.session.close()


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What ``import_warcs`` did."""

    files: int = 0
    records: int = 0
    imported: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _iter_warc_paths(paths: Iterable[Path], snapshots: Path) -> Iterable[Path]:
    from kbharvest.warcstore import is_warc

    own = Path(snapshots).resolve()
    for p in paths:
        p = Path(p)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            if is_warc(f) and f.resolve().parent != own:
                yield f


def import_warcs(paths: Iterable[Path], snapshots: Path = Path("snapshots"),
                 progress: Progress | None = None) -> ImportSummary:
    """Bring captures from other WARC files (another machine, another shard, any archive
    tool) into ``snapshots``, skipping any capture already there.

    A capture is already there when the same URL and timestamp is in the ledger, or the
    same KB id already has a capture with the same payload. Only 200 responses of KB pages
    are imported; the rest are counted as skipped, by reason.
    """
    from warcio.archiveiterator import ArchiveIterator

    progress = progress or NullProgress()
    summary = ImportSummary()
    snapshots = Path(snapshots)
    sources = list(_iter_warc_paths(paths, snapshots))
    with Ledger(snapshots) as ledger, WarcStore(snapshots, "kbharvest-import",
                                                 info={"description": "imported captures"}) as store:
        repair_store(ledger, snapshots)
        progress.phase("WARC files", len(sources))
        for path in sources:
            summary.files += 1
            try:
                with open(path, "rb") as fh:
                    for rec in ArchiveIterator(fh):
                        if rec.rec_type != "response":
                            continue
                        summary.records += 1
                        why = _import_one(ledger, store, rec, path.name)
                        if why is None:
                            summary.imported += 1
                        elif why == "duplicate":
                            summary.duplicates += 1
                        else:
                            summary.skipped[why] = summary.skipped.get(why, 0) + 1
            except (OSError, ValueError, EOFError, KbharvestError) as exc:
                summary.errors.append(f"{path}: {exc}")
            except Exception as exc:  # warcio raises its own types for broken files
                summary.errors.append(f"{path}: not a readable WARC file ({exc})")
            progress.advance()
    return summary


def _import_one(ledger: Ledger, store: WarcStore, rec: Any, source_name: str) -> str | None:
    h = rec.rec_headers
    target = h.get_header("WARC-Target-URI") or ""
    if rec.http_headers is None:
        return "not an HTTP response"
    code = rec.http_headers.get_statuscode()
    if code != "200":
        return f"HTTP status {code}"
    body = rec.content_stream().read(64 * 1024 * 1024 + 1)
    if len(body) > 64 * 1024 * 1024:
        return "body too large"
    if page_reject_reason(body):
        return page_reject_reason(body)
    served_ts = h.get_header(H_SERVED_TS) or "".join(
        c for c in (h.get_header("WARC-Date") or "") if c.isdigit())[:14]
    if len(served_ts) != 14:
        return "no capture time"
    key = h.get_header(H_CAPTURE) or f"{h.get_header(H_REQUESTED_TS) or served_ts} {target}"
    req_ts, _, url = key.partition(" ")
    kb_header = h.get_header(H_KB_ID)
    kb = parse_kb_url(target)
    kb_id = int(kb_header) if kb_header and kb_header.isdigit() else (kb.kb_id if kb else None)
    if kb_id is None:
        kb_id = kb_id_from_page(body, target, target)
    if kb_id is None:
        return "not a KB page"
    row = ledger.find(url, req_ts)
    if row is not None and row["state"] == "fetched":
        return "duplicate"
    body_digest = sha1_base32(body)
    if ledger.rows("SELECT 1 FROM captures WHERE kb_id=? AND body_digest=? AND state='fetched'",
                   (kb_id, body_digest)):
        return "duplicate"
    extra = {k: v for k, v in rec.rec_headers.headers if k.startswith("WARC-KB-")}
    extra.update({H_CAPTURE: f"{req_ts} {url}", H_KB_ID: str(kb_id), H_SERVED_TS: served_ts,
                  "WARC-KB-Imported-From": source_name})
    if kb and kb.language and H_LANGUAGE not in extra:
        extra[H_LANGUAGE] = kb.language
    headers = list(rec.http_headers.headers)
    stored = store.write(CaptureRecord(target, served_ts, 200, headers, body, extra))
    cdx_digest = h.get_header(H_CDX_DIGEST)
    with ledger.tx():
        if row is None:
            cid = ledger.insert(url=url, timestamp=req_ts, kb_id=kb_id,
                                language=extra.get(H_LANGUAGE), form=kb.form if kb else "topic",
                                digest=cdx_digest or body_digest, statuscode="200",
                                origin="import")
        else:
            cid = row["id"]
        ledger.update(cid, state="fetched", warc_file=stored.file, warc_offset=stored.offset,
                      warc_length=stored.length, served_ts=served_ts, served_url=target,
                      status=200, body_digest=body_digest, kb_id=kb_id, reason=None)
        ledger.note_file(stored.file, stored.offset + stored.length)
    return None


# --- terminal reporting (used by the CLI; the library itself never prints) -----------------


class ConsoleProgress:
    """A rich progress bar: phase, done/total, ids, captures, bytes, rate and waits."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.table import Column

        self.console = console or Console(stderr=True)
        # fixed columns first, the long counters last: a narrow terminal cuts those, not
        # the phase name
        self.bar = Progress(
            TextColumn("{task.description}", table_column=Column(no_wrap=True, min_width=8)),
            BarColumn(bar_width=16), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[info]}", table_column=Column(
                no_wrap=True, overflow="ellipsis", max_width=max(20, self.console.width - 50))),
            console=self.console, transient=False)
        self.task: Any = None
        self.counts: dict[str, Any] = {}
        self.waits = 0.0
        self.note = ""
        self.note_until = 0.0
        self.started = time.monotonic()

    def __enter__(self) -> ConsoleProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def _info(self) -> str:
        c = self.counts
        rate = c.get("bytes", 0) / max(time.monotonic() - self.started, 1e-6) / 1024
        waited = f"waited {self.waits:.0f}s"
        if self.phase_name == "captures":
            parts = [f"stored {c.get('fetched', 0)}", f"rejected {c.get('rejected', 0)}",
                     f"failed {c.get('failed', 0)}", waited, f"ids {c.get('ids', 0)}",
                     f"{c.get('bytes', 0) / 1e6:.1f} MB", f"{rate:.0f} KiB/s"]
        else:
            parts = [f"listed {c.get('listed', 0)} captures", waited]
        note = self.note if time.monotonic() < self.note_until else ""
        return (f"{note} · " if note else "") + " · ".join(parts)

    phase_name = ""

    def phase(self, name: str, total: int | None) -> None:
        self.phase_name = name
        self.task = self.bar.add_task(name, total=total, info=self._info())

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=n, info=self._info())

    def update(self, **counts: Any) -> None:
        self.counts.update(counts)
        if self.task is not None:
            self.bar.update(self.task, info=self._info())

    def wait(self, kind: str, seconds: float) -> None:
        self.waits += seconds
        if kind in ("429", "backoff"):
            self.note = f"{'PAUSED after a 429' if kind == '429' else 'backing off'} {seconds:.0f}s"
            self.note_until = time.monotonic() + seconds
        if self.task is not None:
            self.bar.update(self.task, info=self._info())


def format_summary(s: FetchSummary) -> str:
    """The end-of-run summary as lines of text."""
    lines = [
        f"CDX: {s.queries} queries, {s.cdx_pages} pages read this run, {s.listed} new captures listed",
        f"this run: {s.fetched} stored, {s.duplicate} duplicates, {s.rejected} rejected, "
        f"{s.failed} failed, {s.recovered} recovered after a crash",
        f"requests: {s.requests.get('cdx', 0)} CDX, {s.requests.get('replay', 0)} replay; "
        f"{s.bytes / 1e6:.1f} MB; {s.rate_limited} × 429; waited {s.waited:.0f}s "
        f"of {s.elapsed:.0f}s",
        "store: " + ", ".join(f"{k} {v}" for k, v in s.totals.items() if v)
        + f"; {s.ids_with_captures} KB ids with captures in {s.snapshots}/",
    ]
    if s.rejected_reasons:
        lines.append("rejected: " + "; ".join(f"{k} ×{v}" for k, v in
                                              sorted(s.rejected_reasons.items())))
    if s.failed_reasons:
        lines.append("failed (retried on the next run): " + "; ".join(
            f"{k} ×{v}" for k, v in sorted(s.failed_reasons.items())))
    return "\n".join(lines)
