"""Dataset releases: the database exported as a versioned, checksummed folder anyone can load.

``release`` writes ``<out>/kbharvest-<version>/`` from a kbharvest DuckDB file:

- ``data/<table>/<table>-00000-of-0000N.parquet``: every data table of the database (and the
  ``triples`` config), written by DuckDB's COPY on one thread in a fixed row order, sharded at
  a size limit, each row carrying its provenance (source URL, capture timestamp, digest,
  parser version), each file the release and schema versions as key-value metadata;
- ``articles.jsonl.gz``: the newest record of every (kb_id, language), in the record contract;
- ``schema/``: the record's JSON Schema, the database DDL and the DDL of the released tables;
- ``README.md`` (Hugging Face dataset card), ``croissant.json``, ``datapackage.json``
  (rendered by :mod:`kbharvest.release_card`), ``CHANGELOG.md``, ``manifest.json``,
  ``SHA256SUMS``.

The folder is written under a temporary name and renamed at the end, so a release is complete
or absent. The same database, version and ``created`` give byte-identical files.
:mod:`kbharvest.release_verify` checks a release folder.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kbharvest.errors import ReleaseError, ReleaseExistsError
from kbharvest.models import Article

RELEASE_NAME = "kbharvest"
RELEASE_FORMAT = "1"  # the layout of a release folder; bump when it changes incompatibly
DEFAULT_OUT = Path("datasets")
DEFAULT_SHARD_BYTES = 256 * 1024 * 1024
DEFAULT_ROW_GROUP_ROWS = 100_000
JSONL_NAME = "articles.jsonl.gz"
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")

# The provenance every released row carries, taken from the row's capture.
PROVENANCE = {
    "source_url": "The original URL of the archived capture the row was read from.",
    "source_timestamp": "The archive's 14-digit timestamp of that capture (YYYYMMDDhhmmss).",
    "source_digest": "The archive's (CDX) payload digest of that capture.",
    "parser_version": "The kbharvest parser version that made the row.",
}
_PROV_SQL = ("c.url AS source_url, c.served_ts AS source_timestamp, c.digest AS source_digest, "
             "c.parser_version AS parser_version")


@dataclass(frozen=True)
class TableSpec:
    """One released table (a config of the dataset card): what it holds and how it is read."""

    name: str
    description: str
    sql: str  # the SELECT that gives its rows, provenance included, in release order
    keys: tuple[str, ...]  # columns that identify a row (for readers; not enforced)


def _capture_table(name: str, description: str, keys: tuple[str, ...],
                   select: str = "t.*") -> TableSpec:
    order = ", ".join(("t.kb_id", "c.served_ts NULLS FIRST", "t.capture_id",
                       *(f"t.{k}" for k in keys)))
    sql = (f"SELECT {select}, {_PROV_SQL} FROM {name} t "
           f"LEFT JOIN captures c USING (capture_id) ORDER BY {order}")
    return TableSpec(name, description, sql, ("capture_id", *keys))


# file_rows.extra is a MAP in the database; it is released as a list of {key, value} structs
# (what a Parquet map is underneath) because Hugging Face datasets cannot read Parquet maps.
# map_from_entries(extra) gives the map back in DuckDB.
_FILE_ROWS_SELECT = ("t.* REPLACE (map_entries(t.extra) AS extra)")

_SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        "captures",
        "Every archived capture that was loaded, article or not: provenance and outcome "
        "(rejected captures keep their reason).",
        "SELECT t.*, t.url AS source_url, t.served_ts AS source_timestamp, "
        "t.digest AS source_digest FROM captures t "
        "ORDER BY t.kb_id NULLS LAST, t.served_ts NULLS FIRST, t.capture_id",
        ("capture_id",)),
    TableSpec(
        "articles",
        "One row per capture that is an article: the scalar fields of the record; is_latest "
        "marks the newest capture of each (kb_id, language).",
        "SELECT t.*, t.capture_id IN (SELECT capture_id FROM latest_articles) AS is_latest, "
        f"{_PROV_SQL} FROM articles t LEFT JOIN captures c USING (capture_id) "
        "ORDER BY t.kb_id, t.language NULLS FIRST, c.served_ts NULLS FIRST, t.capture_id",
        ("capture_id",)),
    _capture_table("sections", "Every heading of every article, in page order (ordinal from 1).",
                   ("ordinal",)),
    _capture_table("prerequisites", "Hotfix prerequisites, one row per article that states them.",
                   ()),
    _capture_table("file_tables", "File-information tables, also those whose rows the page "
                   "lost (rows_missing).", ("table_no",)),
    _capture_table("file_rows", "One row per file a hotfix shipped: the rows of the "
                   "file-information tables.", ("table_no", "row_no"), _FILE_ROWS_SELECT),
    _capture_table("kb_refs", "Edges: article → every other KB article it refers to.",
                   ("ref_kb_id",)),
    _capture_table("replacements", "Edges: hotfix → the earlier hotfixes it supersedes.",
                   ("ordinal",)),
    _capture_table("applies_to", "Products from the \"Applies to\" list.", ("ordinal",)),
    _capture_table("keywords", "KB keywords (kbfix, kbqfe …).", ("ordinal",)),
    TableSpec(
        "triples",
        "Symptom → cause → resolution from the newest capture of each (kb_id, language) that "
        "has at least one of the three.",
        "SELECT t.kb_id, t.language, t.title, t.symptoms, t.cause, t.resolution, t.capture_id, "
        f"{_PROV_SQL} FROM triples t LEFT JOIN captures c USING (capture_id) "
        "ORDER BY t.kb_id, t.language NULLS FIRST, t.capture_id",
        ("kb_id", "language")),
)


def _release_tables() -> tuple[TableSpec, ...]:
    # Every data table of the store is released: one the store adds later goes out with
    # generic settings until it gets a spec above.
    from kbharvest.store_schema import DATA_TABLES

    specs = {s.name: s for s in _SPECS}
    extra = tuple(_capture_table(name, f"The {name} table of the database.", ())
                  for name in DATA_TABLES if name not in specs)
    return (*(s for s in _SPECS if s.name != "triples"), *extra, specs["triples"])


TABLES: tuple[TableSpec, ...] = _release_tables()
TABLE_NAMES = tuple(t.name for t in TABLES)


# --------------------------------------------------------------------------- options, result

ProgressFn = Callable[[str, int, int], None]  # (step, steps done, steps in all)


@dataclass
class ReleaseReport:
    """What ``release`` wrote: the folder, its manifest, and the previous release it compared."""

    path: Path
    manifest: dict
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    previous: str | None = None
    changes: dict[str, list[int]] = field(default_factory=dict)


def release_dir_name(version: str) -> str:
    """The folder name of release ``version`` (``kbharvest-<version>``)."""
    return f"{RELEASE_NAME}-{version}"


def check_version(version: str) -> str:
    """Return ``version`` if it can name a release folder; raise ReleaseError otherwise."""
    if not VERSION_RE.match(version or ""):
        raise ReleaseError(f"bad release version {version!r}: use letters, digits and . _ + - "
                           "(e.g. 2026.11.0)")
    return version


def resolve_created(created: str | None = None, environ: dict | None = None) -> str:
    """The release's creation time, ISO 8601 UTC to the second.

    ``created`` (an ISO date or date-time) wins, then ``SOURCE_DATE_EPOCH`` (seconds since
    1970, the reproducible-builds convention), then the clock.
    """
    environ = os.environ if environ is None else environ
    if created:
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ReleaseError(f"bad --created {created!r}: use ISO 8601, e.g. "
                               "2026-11-25T00:00:00Z") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    elif environ.get("SOURCE_DATE_EPOCH"):
        try:
            when = dt.datetime.fromtimestamp(int(environ["SOURCE_DATE_EPOCH"]), dt.UTC)
        except ValueError as exc:
            raise ReleaseError("SOURCE_DATE_EPOCH must be a whole number of seconds") from exc
    else:
        when = dt.datetime.now(dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def git_commit(start: Path | None = None) -> str | None:
    """The commit of the kbharvest source checkout, when it is one (else None)."""
    start = start or Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(start), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


_AUTO = object()


def version_key(version: str) -> tuple:
    """Sort key for release versions: numbers compare as numbers (2026.10 < 2026.9 is false)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                 for p in re.findall(r"\d+|[A-Za-z]+", version))


def find_previous_release(out: Path, version: str) -> Path | None:
    """The newest release folder in ``out`` whose version sorts before ``version``."""
    if not out.is_dir():
        return None
    best: tuple[tuple, Path] | None = None
    for path in out.glob(f"{RELEASE_NAME}-*"):
        manifest = path / "manifest.json"
        if not manifest.is_file():
            continue
        try:
            other = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        except (ValueError, KeyError, OSError):
            continue
        if other == version or version_key(other) >= version_key(version):
            continue
        if best is None or version_key(other) > best[0]:
            best = (version_key(other), path)
    return best[1] if best else None


# --------------------------------------------------------------------------- helpers


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _files_list_sql(paths: Iterable[Path]) -> str:
    return "[" + ", ".join(_sql_str(str(p)) for p in paths) + "]"


def write_json(path: Path, obj) -> None:
    """Write JSON the way every release file is written: indented, UTF-8, final newline."""
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- the tables


def _export_table(con: duckdb.DuckDBPyConnection, spec: TableSpec, root: Path, *,
                  version: str, schema_version: str, shard_bytes: int,
                  row_group_rows: int) -> list[Path]:
    """COPY one table into sharded Parquet files; return them (relative to ``root``)."""
    folder = root / "data" / spec.name
    parts = folder / ".parts"
    kv = (f"{{release_name: {_sql_str(RELEASE_NAME)}, release_version: {_sql_str(version)}, "
          f"schema_version: {_sql_str(schema_version)}, table_name: {_sql_str(spec.name)}}}")

    def copy(group_rows: int) -> list[Path]:
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True)
        con.execute(
            f"COPY ({spec.sql}) TO {_sql_str(str(parts))} (FORMAT parquet, COMPRESSION zstd, "
            f"FILE_SIZE_BYTES {int(shard_bytes)}, ROW_GROUP_SIZE {int(group_rows)}, "
            f"FILENAME_PATTERN 'part-{{i}}', KV_METADATA {kv})")
        return sorted(parts.glob("part-*.parquet"), key=lambda p: int(p.stem.split("-")[1]))

    written = copy(row_group_rows)
    # DuckDB starts a new file only between row groups, so one big row group can overshoot
    # the limit: then write again with row groups sized from this run's bytes per row (a
    # function of the data alone, so the result stays reproducible).
    sizes = [p.stat().st_size for p in written]
    if written and max(sizes) > shard_bytes * 1.25:
        rows, _ = parquet_rows(con, written)
        if rows > 1:
            per_row = max(1, sum(sizes) // rows)
            group = max(1, min(row_group_rows, shard_bytes // (4 * per_row)))
            if group < row_group_rows:
                written = copy(group)
    if len(written) > 1:  # a trailing file with no rows says nothing
        written = [p for p in written if parquet_rows(con, [p])[0] > 0] or written[:1]
    if not written:  # DuckDB writes one empty file for an empty result; make sure of it
        con.execute(f"COPY ({spec.sql}) TO {_sql_str(str(parts / 'part-0.parquet'))} "
                    f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {kv})")
        written = [parts / "part-0.parquet"]
    n = len(written)
    final = []
    for i, part in enumerate(written):
        target = folder / f"{spec.name}-{i:05d}-of-{n:05d}.parquet"
        part.rename(target)
        final.append(target.relative_to(root))
    shutil.rmtree(parts)
    return final


def describe_parquet(con: duckdb.DuckDBPyConnection, files: list[Path]) -> list[list[str]]:
    """[[column, DuckDB type], …] of Parquet files as a reader sees them."""
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_files_list_sql(files)})").fetchall()
    return [[r[0], r[1]] for r in rows]


def parquet_rows(con: duckdb.DuckDBPyConnection, files: list[Path]) -> tuple[int, int]:
    """(rows, uncompressed bytes) of Parquet files, read from their footers."""
    lst = _files_list_sql(files)
    rows = con.execute(f"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({lst})"
                       ).fetchone()[0]
    size = con.execute(f"SELECT coalesce(sum(total_uncompressed_size), 0) FROM "
                       f"(SELECT DISTINCT file_name, row_group_id, column_id, "
                       f"total_uncompressed_size FROM parquet_metadata({lst}))").fetchone()[0]
    return int(rows), int(size)


# --------------------------------------------------------------------------- the records

# The latest record of every (kb_id, language), rebuilt in bulk. store_read.article_from_db
# rebuilds one capture with nine queries; this does the same for all of them in one (the
# tests check the two agree record for record).
_RECORDS_SQL = """
WITH latest AS (SELECT capture_id FROM latest_articles),
sec AS (
    SELECT capture_id, list({'kind': kind, 'level': level, 'heading': heading, 'text': text}
                            ORDER BY ordinal) AS v
    FROM sections WHERE capture_id IN (SELECT capture_id FROM latest) GROUP BY capture_id),
frows AS (
    SELECT capture_id, table_no,
           list({'file_name': file_name, 'file_version': file_version, 'file_size': file_size,
                 'date': date, 'time': time, 'platform': platform, 'extra': extra}
                ORDER BY row_no) AS v
    FROM file_rows WHERE capture_id IN (SELECT capture_id FROM latest)
    GROUP BY capture_id, table_no),
ftab AS (
    SELECT t.capture_id,
           list({'caption': t.caption, 'architecture': t.architecture, 'rows': r.v,
                 'rows_missing': t.rows_missing} ORDER BY t.table_no) AS v
    FROM file_tables t LEFT JOIN frows r USING (capture_id, table_no)
    WHERE t.capture_id IN (SELECT capture_id FROM latest) GROUP BY t.capture_id),
refs AS (SELECT capture_id, list(ref_kb_id ORDER BY ref_kb_id) AS v FROM kb_refs
         WHERE capture_id IN (SELECT capture_id FROM latest) GROUP BY capture_id),
repl AS (SELECT capture_id, list(replaces_kb_id ORDER BY ordinal) AS v FROM replacements
         WHERE capture_id IN (SELECT capture_id FROM latest) GROUP BY capture_id),
appl AS (SELECT capture_id, list(product ORDER BY ordinal) AS v FROM applies_to
         WHERE capture_id IN (SELECT capture_id FROM latest) GROUP BY capture_id),
kw AS (SELECT capture_id, list(keyword ORDER BY ordinal) AS v FROM keywords
       WHERE capture_id IN (SELECT capture_id FROM latest) GROUP BY capture_id)
SELECT a.kb_id, a.title, a.language, a.last_review, a.revision, a.template,
       sec.v, a.symptoms, a.cause, a.resolution, a.workaround, a.status, a.more_information,
       p.text, p.requirements, p.kb_refs, a.restart_requirement, a.restart_text,
       a.replacement_text, repl.v, ftab.v, refs.v, appl.v, kw.v,
       c.url, c.served_ts, c.archive, c.digest, a.warnings
FROM articles a
JOIN latest USING (capture_id)
LEFT JOIN captures c USING (capture_id)
LEFT JOIN sec USING (capture_id)
LEFT JOIN prerequisites p USING (capture_id)
LEFT JOIN ftab USING (capture_id)
LEFT JOIN refs USING (capture_id)
LEFT JOIN repl USING (capture_id)
LEFT JOIN appl USING (capture_id)
LEFT JOIN kw USING (capture_id)
ORDER BY a.kb_id, a.language NULLS FIRST, a.capture_id
"""


def _record(row: tuple) -> Article:
    (kb_id, title, language, last_review, revision, template, sections, symptoms, cause,
     resolution, workaround, status, more_information, pre_text, pre_reqs, pre_refs,
     restart_req, restart_text, replacement_text, replaces, file_tables, refs, applies_to,
     keywords, url, served_ts, archive, digest, warnings) = row
    tables = []
    for t in file_tables or []:
        rows = [dict(r, extra=dict(r["extra"] or {})) for r in (t["rows"] or [])]
        tables.append(dict(t, rows=rows))
    return Article.model_validate({
        "kb_id": kb_id, "title": title, "language": language, "last_review": last_review,
        "revision": revision, "template": template, "sections": sections or [],
        "symptoms": symptoms, "cause": cause, "resolution": resolution,
        "workaround": workaround, "status": status, "more_information": more_information,
        "prerequisites": {"text": pre_text, "requirements": list(pre_reqs),
                          "kb_refs": list(pre_refs)} if pre_text is not None else None,
        "restart": {"requirement": restart_req, "text": restart_text or ""}
        if restart_req is not None else None,
        "replacement": {"replaces": replaces or [], "text": replacement_text}
        if replacement_text is not None else None,
        "file_tables": tables, "kb_refs": refs or [], "applies_to": applies_to or [],
        "keywords": keywords or [],
        "source": {"url": url, "timestamp": served_ts, "archive": archive, "digest": digest}
        if any((url, served_ts, archive, digest)) else None,
        "warnings": list(warnings or []),
    })


def iter_latest_records(con: duckdb.DuckDBPyConnection) -> Iterator[Article]:
    """The newest record of every (kb_id, language), ordered by kb_id then language."""
    cur = con.execute(_RECORDS_SQL)
    while rows := cur.fetchmany(2000):
        for row in rows:
            yield _record(row)


def record_fingerprint(record: dict) -> str:
    """What CHANGELOG compares: the record's content without its provenance (source)."""
    body = {k: v for k, v in record.items() if k != "source"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()


def _write_records(con: duckdb.DuckDBPyConnection, path: Path
                   ) -> tuple[int, dict[tuple[int, str], str]]:
    """Write articles.jsonl.gz deterministically (mtime 0, no file name in the header)."""
    count = 0
    prints: dict[tuple[int, str], str] = {}
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                 compresslevel=6) as gz:
        for article in iter_latest_records(con):
            line = article.model_dump_json()
            gz.write(line.encode("utf-8") + b"\n")
            prints[(article.kb_id, article.language or "")] = record_fingerprint(
                json.loads(line))
            count += 1
    return count, prints


def read_record_prints(path: Path) -> dict[tuple[int, str], str]:
    """{(kb_id, language): fingerprint} of a release's articles.jsonl.gz."""
    prints = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                prints[(rec["kb_id"], rec.get("language") or "")] = record_fingerprint(rec)
    return prints


# --------------------------------------------------------------------------- counts, changes


def _pairs(con: duckdb.DuckDBPyConnection, sql: str) -> list[list]:
    return [[("(none)" if k is None else str(k)), *[int(x) for x in rest]]
            for k, *rest in con.execute(sql).fetchall()]


def collect_counts(con: duckdb.DuckDBPyConnection) -> dict:
    """The numbers the card and the manifest give: captures, templates, years, gaps."""
    def one(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    return {
        "captures": {
            "total": one("SELECT count(*) FROM captures"),
            "articles": one("SELECT count(*) FROM captures WHERE outcome = 'article'"),
            "rejected": one("SELECT count(*) FROM captures WHERE outcome = 'rejected'"),
            "kb_ids": one("SELECT count(DISTINCT kb_id) FROM articles"),
            "latest_articles": one("SELECT count(*) FROM latest_articles"),
        },
        # [template, latest articles, captures]
        "by_template": _pairs(con, """
            SELECT template, count(*) FILTER (WHERE capture_id IN
                       (SELECT capture_id FROM latest_articles)), count(*)
            FROM articles GROUP BY 1 ORDER BY 1 NULLS LAST"""),
        # [year, latest articles by last review, captures (of any outcome) by capture date]
        "by_year": _pairs(con, """
            WITH r AS (SELECT year(last_review) AS y, count(*) AS n FROM latest_articles
                       GROUP BY 1),
                 c AS (SELECT year(captured_at) AS y, count(*) AS n FROM captures GROUP BY 1)
            SELECT y, coalesce(r.n, 0), coalesce(c.n, 0)
            FROM r FULL JOIN c USING (y) ORDER BY y NULLS LAST"""),
        "by_language": _pairs(con, "SELECT language, count(*) FROM latest_articles "
                                   "GROUP BY 1 ORDER BY 1 NULLS LAST"),
        "parser_versions": _pairs(con, "SELECT parser_version, count(*) FROM captures "
                                       "GROUP BY 1 ORDER BY 1"),
        "gaps": {
            "file_tables_rows_missing": one(
                "SELECT count(*) FROM file_tables WHERE rows_missing"),
            "articles_with_rows_missing": one(
                "SELECT count(DISTINCT capture_id) FROM file_tables WHERE rows_missing "
                "AND capture_id IN (SELECT capture_id FROM latest_articles)"),
            "latest_without_triple": one(
                "SELECT count(*) FROM latest_articles WHERE symptoms IS NULL AND cause IS NULL "
                "AND resolution IS NULL"),
            "latest_without_title": one("SELECT count(*) FROM latest_articles "
                                        "WHERE title IS NULL"),
            "latest_without_last_review": one("SELECT count(*) FROM latest_articles "
                                              "WHERE last_review IS NULL"),
            "latest_without_language": one("SELECT count(*) FROM latest_articles "
                                           "WHERE language IS NULL"),
            "latest_with_warnings": one("SELECT count(*) FROM latest_articles "
                                        "WHERE len(warnings) > 0"),
            "captures_without_timestamp": one("SELECT count(*) FROM captures "
                                              "WHERE served_ts IS NULL"),
            "rejections": _pairs(con, "SELECT rejection_reason, count(*) n FROM captures "
                                      "WHERE outcome = 'rejected' GROUP BY 1 "
                                      "ORDER BY n DESC, 1 LIMIT 20"),
        },
    }


def compare_records(old: dict[tuple[int, str], str], new: dict[tuple[int, str], str]
                    ) -> dict[str, list[int]]:
    """KB ids added, removed and changed (any language's record, provenance aside)."""
    old_ids = {k for k, _ in old}
    new_ids = {k for k, _ in new}
    by_id_old: dict[int, dict[str, str]] = {}
    by_id_new: dict[int, dict[str, str]] = {}
    for (k, lang), fp in old.items():
        by_id_old.setdefault(k, {})[lang] = fp
    for (k, lang), fp in new.items():
        by_id_new.setdefault(k, {})[lang] = fp
    return {
        "added": sorted(new_ids - old_ids),
        "removed": sorted(old_ids - new_ids),
        "changed": sorted(k for k in old_ids & new_ids if by_id_old[k] != by_id_new[k]),
    }


def render_changelog(version: str, previous: dict | None, changes: dict[str, list[int]] | None,
                     kb_ids: int, records: int, earlier: str = "") -> str:
    """CHANGELOG.md: this release against the previous one, then the previous changelog."""
    lines = ["# Changelog", "", f"## {version}", ""]
    if previous is None or changes is None:
        lines += [f"First release: {kb_ids:,} KB ids, {records:,} articles "
                  "(newest record per KB id and language).", ""]
    else:
        lines += [f"Compared with {release_dir_name(previous['version'])}: "
                  f"{len(changes['added']):,} KB ids added, {len(changes['removed']):,} removed, "
                  f"{len(changes['changed']):,} changed (the record of at least one language "
                  "differs, its capture provenance aside). Now "
                  f"{kb_ids:,} KB ids, {records:,} articles.", ""]
        for what in ("added", "removed", "changed"):
            ids = changes[what]
            lines += [f"### {what.capitalize()} ({len(ids):,})", ""]
            if ids:
                row: list[str] = []
                for kb in ids:
                    row.append(f"KB{kb}")
                    if len(row) == 10:
                        lines.append(", ".join(row))
                        row = []
                if row:
                    lines.append(", ".join(row))
            else:
                lines.append("None.")
            lines.append("")
    text = "\n".join(lines)
    if earlier:
        body = earlier.split("\n", 1)[1].lstrip("\n") if earlier.startswith("# Changelog") \
            else earlier
        text += "\n" + body
    return text.rstrip("\n") + "\n"


# --------------------------------------------------------------------------- the release


def release(
    version: str,
    db: Path | str = Path("datasets/kb.duckdb"),
    out: Path | str = DEFAULT_OUT,
    *,
    created: str | None = None,
    commit: str | object | None = _AUTO,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    progress: ProgressFn | None = None,
) -> ReleaseReport:
    """Write release ``version`` of the database ``db`` as ``<out>/kbharvest-<version>/``.

    ``created`` (ISO 8601; else SOURCE_DATE_EPOCH, else now) is the only time written, and
    only into manifest.json. ``commit`` is the git commit recorded (default: the source
    checkout's, if any). The previous release is the newest ``kbharvest-*`` folder in ``out``
    with a lower version; CHANGELOG.md lists the KB ids added, removed and changed since.

    Raises ReleaseExistsError when the folder exists, DatabaseNotFoundError /
    DatabaseInUseError when the database cannot be read, ReleaseError for a bad version.
    """
    import time

    from kbharvest import __version__
    from kbharvest.release_card import (
        render_card,
        render_croissant,
        render_datapackage,
        render_tables_ddl,
    )
    from kbharvest.schema import render_schemas
    from kbharvest.store import connect
    from kbharvest.store_schema import SCHEMA_VERSION, render_ddl

    started = time.monotonic()
    check_version(version)
    created_at = resolve_created(created)
    out = Path(out)
    final = out / release_dir_name(version)
    if final.exists():
        raise ReleaseExistsError(str(final))
    commit = git_commit() if commit is _AUTO else commit
    previous_dir = find_previous_release(out, version)

    steps = len(TABLES) + 4
    done = 0

    def step(name: str) -> None:
        nonlocal done
        if progress:
            progress(name, done, steps)
        done += 1

    con = connect(db, read_only=True)
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp(out, version)
    tmp = out / f".{release_dir_name(version)}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        try:
            tables, records, prints, counts, languages = _export_all(
                con, tmp, version, SCHEMA_VERSION, shard_bytes, row_group_rows, step)
        finally:
            con.close()

        step("writing schema, card and changelog")
        schema_dir = tmp / "schema"
        schema_dir.mkdir()
        (schema_dir / "article.schema.json").write_text(
            render_schemas()["article.schema.json"], encoding="utf-8")
        (schema_dir / "kb.sql").write_text(render_ddl(), encoding="utf-8")
        (schema_dir / "tables.sql").write_text(render_tables_ddl(tables), encoding="utf-8")

        previous = changes = None
        earlier = ""
        if previous_dir is not None:
            try:
                previous = json.loads((previous_dir / "manifest.json").read_text(
                    encoding="utf-8"))
                old_prints = read_record_prints(previous_dir / JSONL_NAME)
            except (OSError, EOFError, ValueError, KeyError) as exc:
                raise ReleaseError(
                    f"the previous release {previous_dir} cannot be read to compare with "
                    f"({exc}); check it with `kbharvest verify {previous_dir}`, or move it "
                    "out of --out") from exc
            changes = compare_records(old_prints, prints)
            log = previous_dir / "CHANGELOG.md"
            earlier = log.read_text(encoding="utf-8") if log.is_file() else ""
        (tmp / "CHANGELOG.md").write_text(
            render_changelog(version, previous, changes, counts["captures"]["kb_ids"], records,
                             earlier), encoding="utf-8")

        parser_versions = [v for v, _ in counts["parser_versions"]]
        manifest: dict = {
            "name": RELEASE_NAME,
            "version": version,
            "created": created_at,
            "release_format": RELEASE_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "parser_version": ", ".join(parser_versions) if parser_versions else None,
            "kbharvest_version": __version__,
            "duckdb_version": duckdb.__version__,
            "git_commit": commit,
            "source_database": Path(db).name,
            "tables": tables,
            "articles_jsonl": {"path": JSONL_NAME, "records": records},
            "languages": languages,
            "counts": counts,
            "previous_release": None if previous is None else {
                "version": previous["version"],
                "path": release_dir_name(previous["version"]),
                "added": len(changes["added"]),
                "removed": len(changes["removed"]),
                "changed": len(changes["changed"]),
            },
        }
        (tmp / "README.md").write_text(render_card(manifest), encoding="utf-8")

        step("writing croissant.json and datapackage.json")
        data_files = {p: {"sha256": sha256_file(tmp / p), "bytes": (tmp / p).stat().st_size}
                      for p in _listing(tmp)}
        write_json(tmp / "croissant.json", render_croissant(manifest, data_files))
        write_json(tmp / "datapackage.json", render_datapackage(manifest, data_files))

        step("writing manifest and checksums")
        listed = [p for p in _listing(tmp) if p not in ("manifest.json", "SHA256SUMS")]
        manifest["files"] = {p: {"sha256": sha256_file(tmp / p),
                                 "bytes": (tmp / p).stat().st_size} for p in listed}
        write_json(tmp / "manifest.json", manifest)
        sums = "".join(f"{sha256_file(tmp / p)}  {p}\n"
                       for p in _listing(tmp) if p != "SHA256SUMS")
        (tmp / "SHA256SUMS").write_text(sums, encoding="utf-8")
        if final.exists():
            raise ReleaseExistsError(str(final))
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress:
        progress("done", steps, steps)
    listing = _listing(final)
    return ReleaseReport(
        path=final, manifest=manifest, files=len(listing),
        bytes=sum((final / p).stat().st_size for p in listing),
        seconds=time.monotonic() - started,
        previous=None if previous is None else previous["version"],
        changes=changes or {},
    )


def _export_all(con, tmp: Path, version: str, schema_version: str, shard_bytes: int,
                row_group_rows: int, step: Callable[[str], None]):
    """Write every table and articles.jsonl.gz; return what the manifest needs of them."""
    # One thread: DuckDB's Parquet writer then cuts the same row groups and files every run.
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    tables: dict[str, dict] = {}
    for spec in TABLES:
        step(f"writing {spec.name}")
        files = _export_table(con, spec, tmp, version=version, schema_version=schema_version,
                              shard_bytes=shard_bytes, row_group_rows=row_group_rows)
        abs_files = [tmp / f for f in files]
        rows, raw_bytes = parquet_rows(con, abs_files)
        tables[spec.name] = {
            "description": spec.description,
            "rows": rows,
            "bytes": sum(f.stat().st_size for f in abs_files),
            "uncompressed_bytes": raw_bytes,
            "files": [f.as_posix() for f in files],
            "columns": dict(describe_parquet(con, abs_files)),
            "keys": list(spec.keys),
        }
    step(f"writing {JSONL_NAME}")
    records, prints = _write_records(con, tmp / JSONL_NAME)
    counts = collect_counts(con)
    languages = [r[0] for r in con.execute(
        "SELECT DISTINCT language FROM latest_articles WHERE language IS NOT NULL "
        "ORDER BY 1").fetchall()]
    return tables, records, prints, counts, languages


def _remove_stale_temp(out: Path, version: str) -> None:
    """Remove temporary folders of this version left by a release that was killed."""
    for tmp in out.glob(f".{release_dir_name(version)}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # that release is still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        shutil.rmtree(tmp, ignore_errors=True)


def _listing(root: Path) -> list[str]:
    """Every file under ``root``, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


__all__ = [
    "DEFAULT_OUT",
    "JSONL_NAME",
    "PROVENANCE",
    "TABLES",
    "TABLE_NAMES",
    "ReleaseReport",
    "TableSpec",
    "check_version",
    "collect_counts",
    "compare_records",
    "find_previous_release",
    "git_commit",
    "iter_latest_records",
    "release",
    "release_dir_name",
    "resolve_created",
    "sha256_file",
]
