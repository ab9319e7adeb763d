"""Reading the Knowledge Base back: SQL queries, one article rebuilt as a record, statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kbharvest.errors import ArticleNotFoundError, QueryError
from kbharvest.models import (
    Article,
    FileRow,
    FileTable,
    Prerequisites,
    Replacement,
    Restart,
    Section,
    Source,
)
from kbharvest.store import DEFAULT_DB, connect, get_meta


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple]


def query(sql: str, db: Path | str = DEFAULT_DB) -> QueryResult:
    """Run ``sql`` on a read-only connection (the fts functions loaded when available).

    Raises QueryError carrying DuckDB's own message when DuckDB refuses the query.
    """
    from kbharvest.search import load_fts

    con = connect(db, read_only=True)
    try:
        load_fts(con)  # so match_bm25 and stem work in queries; absent is not an error here
        try:
            cur = con.execute(sql)
            columns = [d[0] for d in cur.description] if cur.description else []
            rows = cur.fetchall() if cur.description else []
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from exc
    finally:
        con.close()
    return QueryResult(columns, rows)


# --------------------------------------------------------------------------- one article


@dataclass(frozen=True)
class CaptureInfo:
    """Provenance of one capture, as ``show`` prints it."""

    capture_id: str
    input: str
    url: str | None
    archive: str | None
    requested_ts: str | None
    served_ts: str | None
    digest: str | None
    sha256: str
    http_status: int | None
    parser_version: str
    last_review: object = None
    revision: str | None = None
    content_changed: bool | None = None


@dataclass(frozen=True)
class ArticleView:
    """One article as stored: the record rebuilt from the tables, its capture, its history."""

    article: Article
    capture: CaptureInfo
    history: list[CaptureInfo] = field(default_factory=list)  # every capture, oldest first
    languages: list[str] = field(default_factory=list)


def article_from_db(con: duckdb.DuckDBPyConnection, capture_id: str) -> Article:
    """Rebuild the Article record of one capture from the normalised tables (lossless)."""
    cur = con.execute("SELECT * FROM articles WHERE capture_id = ?", [capture_id])
    cols = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise KeyError(capture_id)
    a = dict(zip(cols, row, strict=True))
    sections = [Section(kind=k, level=lv, heading=h, text=t) for k, lv, h, t in con.execute(
        "SELECT kind, level, heading, text FROM sections WHERE capture_id = ? ORDER BY ordinal",
        [capture_id]).fetchall()]
    pre = con.execute("SELECT text, requirements, kb_refs FROM prerequisites "
                      "WHERE capture_id = ?", [capture_id]).fetchone()
    rows_by_table: dict[int, list[FileRow]] = {}
    for (table_no, name, version, size, date, tm, platform, extra) in con.execute(
            "SELECT table_no, file_name, file_version, file_size, date, time, platform, extra "
            "FROM file_rows WHERE capture_id = ? ORDER BY table_no, row_no",
            [capture_id]).fetchall():
        rows_by_table.setdefault(table_no, []).append(FileRow(
            file_name=name, file_version=version, file_size=size, date=date, time=tm,
            platform=platform, extra=dict(extra or {})))
    tables = [FileTable(caption=cap, architecture=arch, rows=rows_by_table.get(no, []),
                        rows_missing=missing)
              for no, cap, arch, missing in con.execute(
                  "SELECT table_no, caption, architecture, rows_missing FROM file_tables "
                  "WHERE capture_id = ? ORDER BY table_no", [capture_id]).fetchall()]

    def column(sql: str) -> list:
        return [r[0] for r in con.execute(sql, [capture_id]).fetchall()]

    replaces = column("SELECT replaces_kb_id FROM replacements WHERE capture_id = ? "
                      "ORDER BY ordinal")
    src = con.execute("SELECT url, served_ts, archive, digest FROM captures "
                      "WHERE capture_id = ?", [capture_id]).fetchone()
    source = Source(url=src[0], timestamp=src[1], archive=src[2], digest=src[3]) if src and any(
        src) else None
    return Article(
        kb_id=a["kb_id"], title=a["title"], language=a["language"],
        last_review=a["last_review"], revision=a["revision"], template=a["template"],
        sections=sections, symptoms=a["symptoms"], cause=a["cause"],
        resolution=a["resolution"], workaround=a["workaround"], status=a["status"],
        more_information=a["more_information"],
        prerequisites=Prerequisites(text=pre[0], requirements=list(pre[1]),
                                    kb_refs=list(pre[2])) if pre else None,
        restart=Restart(requirement=a["restart_requirement"], text=a["restart_text"] or "")
        if a["restart_requirement"] is not None else None,
        replacement=Replacement(replaces=replaces, text=a["replacement_text"])
        if a["replacement_text"] is not None else None,
        file_tables=tables,
        kb_refs=column("SELECT ref_kb_id FROM kb_refs WHERE capture_id = ? ORDER BY ref_kb_id"),
        applies_to=column("SELECT product FROM applies_to WHERE capture_id = ? ORDER BY ordinal"),
        keywords=column("SELECT keyword FROM keywords WHERE capture_id = ? ORDER BY ordinal"),
        source=source,
        warnings=list(a["warnings"] or []),
    )


_CAPTURE_COLS = ("capture_id, input, url, archive, requested_ts, served_ts, digest, sha256, "
                 "http_status, parser_version")


def get_article(kb_id: int, db: Path | str = DEFAULT_DB, *, language: str | None = None
                ) -> ArticleView:
    """The newest capture of KB ``kb_id`` (in ``language``; else en-us, else any language).

    Raises ArticleNotFoundError when the database holds no such article.
    """
    con = connect(db, read_only=True)
    try:
        languages = [r[0] for r in con.execute(
            "SELECT DISTINCT coalesce(language, '') FROM articles WHERE kb_id = ? ORDER BY 1",
            [kb_id]).fetchall()]
        if language is not None:
            want = language.lower()
            pick = next((lang for lang in languages if lang.lower() == want), None)
        else:
            pick = "en-us" if "en-us" in languages else (languages[0] if languages else None)
        if pick is None:
            raise ArticleNotFoundError(kb_id, language, [lang or "(none)" for lang in languages])
        rows = con.execute(
            f"""SELECT {", ".join("c." + c.strip() for c in _CAPTURE_COLS.split(","))},
                       h.last_review, h.revision, h.content_changed
                FROM article_history h JOIN captures c USING (capture_id)
                WHERE h.kb_id = ? AND coalesce(h.language, '') = ?
                ORDER BY h.capture_no""", [kb_id, pick]).fetchall()
        history = [CaptureInfo(*r) for r in rows]
        latest = con.execute(
            "SELECT capture_id FROM latest_articles WHERE kb_id = ? AND coalesce(language, '') = ?",
            [kb_id, pick]).fetchone()[0]
        article = article_from_db(con, latest)
        capture = next(h for h in history if h.capture_id == latest)
    finally:
        con.close()
    return ArticleView(article, capture, history, [lang or "(none)" for lang in languages])


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Stats:
    """Counts over the whole database: totals, and per template, language, year, reason."""

    db: str
    totals: dict[str, int]
    by_template: list[tuple[str, int]]
    by_language: list[tuple[str, int]]
    by_capture_year: list[tuple[str, int]]
    by_review_year: list[tuple[str, int]]
    rejections: list[tuple[str, int]]
    parser_versions: list[tuple[str, int]]
    search_index: str


def stats(db: Path | str = DEFAULT_DB) -> Stats:
    """Count what the database holds."""
    con = connect(db, read_only=True)
    try:
        def one(sql: str) -> int:
            return con.execute(sql).fetchone()[0]

        def pairs(sql: str) -> list[tuple[str, int]]:
            return [(str(k) if k is not None else "(none)", int(n))
                    for k, n in con.execute(sql).fetchall()]

        totals = {
            "captures": one("SELECT count(*) FROM captures"),
            "articles": one("SELECT count(*) FROM articles"),
            "rejected": one("SELECT count(*) FROM captures WHERE outcome = 'rejected'"),
            "kb_ids": one("SELECT count(DISTINCT kb_id) FROM articles"),
            "articles_latest": one("SELECT count(*) FROM latest_articles"),
            "sections": one("SELECT count(*) FROM sections"),
            "file_rows": one("SELECT count(*) FROM file_rows"),
            "distinct_files": one("SELECT count(*) FROM files"),
            "triples": one("SELECT count(*) FROM triples"),
        }
        result = Stats(
            db=str(db),
            totals=totals,
            by_template=pairs("SELECT template, count(*) n FROM articles GROUP BY 1 "
                              "ORDER BY n DESC, 1"),
            by_language=pairs("SELECT language, count(*) n FROM articles GROUP BY 1 "
                              "ORDER BY n DESC, 1"),
            by_capture_year=pairs("SELECT year(captured_at), count(*) FROM captures "
                                  "GROUP BY 1 ORDER BY 1 NULLS LAST"),
            by_review_year=pairs("SELECT year(last_review), count(*) FROM articles "
                                 "GROUP BY 1 ORDER BY 1 NULLS LAST"),
            rejections=pairs("SELECT rejection_reason, count(*) n FROM captures "
                             "WHERE outcome = 'rejected' GROUP BY 1 ORDER BY n DESC, 1"),
            parser_versions=pairs("SELECT parser_version, count(*) FROM captures "
                                  "GROUP BY 1 ORDER BY 1"),
            search_index=get_meta(con, "search_index") or "not built",
        )
    finally:
        con.close()
    return result


__all__ = ["ArticleView", "CaptureInfo", "QueryResult", "Stats", "article_from_db",
           "get_article", "query", "stats"]
