"""Full-text search over the Knowledge Base: DuckDB's fts extension, loaded offline, and BM25.

The extension comes from the PyPI package ``duckdb-extension-fts`` (a file inside the
installed package), loaded by path with autoinstall off, so search never needs the network.
When it cannot be loaded, search says why and falls back to a plain ILIKE scan.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kbharvest.store import DEFAULT_DB, connect, get_meta, set_meta

INDEX_TABLE = "search_docs"
FTS_SCHEMA = f"fts_main_{INDEX_TABLE}"
SNIPPET_CHARS = 220


def fts_extension_path() -> Path | None:
    """The fts extension file shipped by ``duckdb-extension-fts`` for this DuckDB, or None."""
    spec = importlib.util.find_spec("duckdb_extension_fts")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    exact = root / f"v{duckdb.__version__}" / "fts.duckdb_extension"
    if exact.is_file():
        return exact
    found = sorted(root.glob("*/fts.duckdb_extension")) + sorted(
        root.glob("*/*/fts.duckdb_extension"))
    return found[-1] if found else None


def load_fts(con: duckdb.DuckDBPyConnection) -> str | None:
    """Load the fts extension into ``con`` from its package file; return None, or why not."""
    path = fts_extension_path()
    if path is None:
        return ("DuckDB's fts extension is not installed (pip package duckdb-extension-fts "
                f"{duckdb.__version__})")
    try:
        con.execute(f"LOAD '{str(path).replace(chr(39), chr(39) * 2)}'")
    except duckdb.Error as exc:
        return f"DuckDB's fts extension could not be loaded from {path}: {exc}"
    return None


_DOCS_SELECT = """
SELECT la.capture_id AS doc_id, la.kb_id, la.language, coalesce(la.title, '') AS title,
       coalesce(s.body, concat_ws(chr(10) || chr(10), la.symptoms, la.cause, la.resolution,
                                  la.workaround, la.status, la.more_information), '') AS body
FROM latest_articles la LEFT JOIN (
    SELECT capture_id,
           string_agg(heading || chr(10) || text, chr(10) || chr(10) ORDER BY ordinal) AS body
    FROM sections GROUP BY capture_id) s USING (capture_id)
"""
_DOCS_SQL = f"CREATE OR REPLACE TABLE {INDEX_TABLE} AS {_DOCS_SELECT}"


def ensure_index(con: duckdb.DuckDBPyConnection, force: bool = False) -> str:
    """Rebuild the search documents and the BM25 index when a load made them stale.

    Returns the index state: ``ready``, or ``unavailable: <reason>`` (search then uses ILIKE).
    """
    state = get_meta(con, "search_index")
    if state == "ready" and not force:
        return state
    con.execute(_DOCS_SQL)
    reason = load_fts(con)
    if reason is None:
        try:
            con.execute(f"PRAGMA create_fts_index('{INDEX_TABLE}', 'doc_id', 'title', 'body', "
                        "stemmer = 'porter', stopwords = 'english', strip_accents = 1, "
                        "lower = 1, overwrite = 1)")
        except duckdb.Error as exc:
            reason = f"building the full-text index failed: {exc}"
    state = "ready" if reason is None else f"unavailable: {reason}"
    set_meta(con, "search_index", state)
    return state


@dataclass(frozen=True)
class SearchHit:
    """One article found: where, how well, and a snippet around the matched words."""

    kb_id: int
    language: str | None
    title: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)  # spans in ``snippet``


@dataclass(frozen=True)
class SearchResult:
    """The hits, best first, and how they were found (``bm25`` or ``ilike``, with why)."""

    query: str
    hits: list[SearchHit]
    mode: str
    note: str | None = None


_WORD = re.compile(r"\w+", re.UNICODE)


def search(text: str, db: Path | str = DEFAULT_DB, *, limit: int = 10) -> SearchResult:
    """Rank the newest capture of every article (per language) against ``text`` with BM25
    over title and section texts; fall back to ILIKE when the fts extension is unavailable."""
    terms = [t.lower() for t in _WORD.findall(text)]
    con = connect(db, read_only=True)
    try:
        if not terms:
            return SearchResult(text, [], "bm25", "the query has no words")
        state = get_meta(con, "search_index") or "stale"
        reason = load_fts(con) if state == "ready" else (
            state.removeprefix("unavailable: ") if state.startswith("unavailable")
            else "the search index is out of date (run `kbharvest load`)")
        if reason is None:
            rows = con.execute(
                f"""SELECT kb_id, language, title, body, score FROM (
                        SELECT *, {FTS_SCHEMA}.match_bm25(doc_id, ?, fields := 'title,body')
                                  AS score FROM {INDEX_TABLE})
                    WHERE score IS NOT NULL
                    ORDER BY score DESC, kb_id, language NULLS LAST LIMIT ?""",
                [text, limit]).fetchall()
            stems = _stems(con, terms)
            mode, note = "bm25", None
        else:
            rows = _ilike(con, terms, limit, state)
            stems = terms
            mode, note = "ilike", f"{reason}; falling back to a plain substring (ILIKE) search"
    finally:
        con.close()
    hits = []
    for kb_id, language, title, body, score in rows:
        snippet, spans = make_snippet(body or "", stems)
        hits.append(SearchHit(kb_id, language, title or "", float(score), snippet, spans))
    return SearchResult(text, hits, mode, note)


def _ilike(con, terms: list[str], limit: int, state: str) -> list[tuple]:
    # The documents table is current unless a load was cut short: then read the views.
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    source = INDEX_TABLE if INDEX_TABLE in tables and state != "stale" else f"({_DOCS_SELECT})"
    hit_count = " + ".join("(title || ' ' || body ILIKE ?)::INT" for _ in terms)
    any_hit = " OR ".join("(title || ' ' || body ILIKE ?)" for _ in terms)
    args = [f"%{t}%" for t in terms]
    return con.execute(
        f"""SELECT kb_id, language, title, body, {hit_count} AS score FROM {source} d
            WHERE {any_hit} ORDER BY score DESC, kb_id, language NULLS LAST LIMIT ?""",
        [*args, *args, limit]).fetchall()


def _stems(con, terms: list[str]) -> list[str]:
    try:
        return [con.execute("SELECT stem(?, 'porter')", [t]).fetchone()[0] or t for t in terms]
    except duckdb.Error:
        return terms


def make_snippet(body: str, stems: list[str], width: int = SNIPPET_CHARS
                 ) -> tuple[str, list[tuple[int, int]]]:
    """The ``width`` characters of ``body`` with the most matched words, and their spans."""
    flat = " ".join(body.split())
    if not stems:
        return flat[:width], []
    pattern = re.compile(r"\b(" + "|".join(re.escape(s[: max(3, len(s) - 1)]) if len(s) > 3
                                            else re.escape(s) for s in stems) + r")\w*",
                         re.IGNORECASE)
    matches = [(m.start(), m.end()) for m in pattern.finditer(flat)]
    if not matches:
        return (flat[:width] + ("…" if len(flat) > width else "")), []
    best_start, best_n = matches[0][0], 0
    for i, (start, _) in enumerate(matches):
        n = sum(1 for s, e in matches[i:] if e <= start + width)
        if n > best_n:
            best_start, best_n = start, n
    start = max(0, best_start - width // 4)
    if start > 0:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < best_start else start
    end = min(len(flat), start + width)
    text = flat[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    offset = len(prefix) - start
    spans = [(s + offset, e + offset) for s, e in matches if s >= start and e <= end]
    return prefix + text + suffix, spans


__all__ = ["SearchHit", "SearchResult", "ensure_index", "fts_extension_path", "load_fts",
           "make_snippet", "search"]
