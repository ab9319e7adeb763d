"""The DuckDB Knowledge Base file: opening it (one writer at a time) and bulk-loading captures.

``load`` walks snapshots (WARC files, or anything ``kbharvest parse`` accepts), keys every
capture by a stable id, parses only the captures the database does not hold yet (all of them
with ``reparse``), and writes them in batches. A batch is staged as JSON lines in a file,
read by DuckDB's own ``read_json`` into a scratch table, and spread by SQL over the
normalised tables of :mod:`kbharvest.store_schema` in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _encode_basestring
from pathlib import Path

import duckdb

from kbharvest.errors import (
    DatabaseInUseError,
    DatabaseNotFoundError,
    InputError,
    KbharvestError,
    ParseError,
    RejectedCapture,
)
from kbharvest.models import Article, Source
from kbharvest.parse.decode import MAX_TEXT_BYTES
from kbharvest.store_schema import (
    DATA_TABLES,
    INDEX_NAMES,
    INDEXES,
    SCHEMA_VERSION,
    STAGE_COLUMNS,
    statements,
)

DEFAULT_DB = Path("datasets/kb.duckdb")
BATCH_SIZE = 20_000  # records per transaction: big enough for DuckDB's bulk paths…
BATCH_BYTES = 160 * 2**20  # …or this much staged JSON (characters), whichever comes first
# DuckDB keeps every block it writes cached up to its memory limit (80% of RAM by default),
# so a long load would grow by the size of the data: the loader caps DuckDB's memory while it
# writes, at a base plus room per thread for its JSON read buffers (twice the largest record).
# Less than this made loads markedly slower; a batch that still runs out of memory is rolled
# back and run again without the cap (LoadReport.memory_uncapped).
LOAD_MEMORY_BASE_MB = 320
LOAD_MEMORY_PER_THREAD_MB = 32
BATCH_SECONDS = 30.0  # …but commit at least this often when parsing is slow
PARSE_WINDOW = 500  # captures handed to the parser at a time (bounds memory for big pages)
MAX_INPUT_BYTES = MAX_TEXT_BYTES  # one size limit for parse and load
# One staged JSON line. The biggest real article is well under 1 MB; each DuckDB thread
# buffers twice this much, so a bigger limit costs memory every load pays for.
MAX_RECORD_BYTES = 8 * 1024 * 1024

ROW_GROUP_SIZE = 4_096  # rows per row group while writing (see _attach_for_writing)
STORAGE_VERSION = "v1.5.0"  # the file format written (see _attach_for_writing)
WRITE_ALIAS = "kb"  # the name the database file is attached under when writing
STAGE_DB = "kbstage"  # the scratch database a batch is staged in (see _attach_stage_db)
STAGE_ROW_GROUP_SIZE = 2_048
STAGE_BUFFER = 2**20  # bytes of staged JSON buffered before a write
# Never reach for the network: extensions are loaded from files we name (see search.py).
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?)(?: by user|\.?$)", re.S)


# --------------------------------------------------------------------------- connections


def connect(path: Path | str = DEFAULT_DB, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file; create it and its schema when writing.

    Raises DatabaseInUseError when another process holds it for writing, and
    DatabaseNotFoundError when a read-only open finds no database.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseNotFoundError(str(path))
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.with_name(path.name + ".wal").exists():
        # A load was cut short: its committed batches are still in the write-ahead log, and
        # only a read-write open can replay them into the file.
        connect(path, read_only=False).close()
    try:
        if read_only:
            con = duckdb.connect(str(path), read_only=True, config=dict(_CONFIG))
        else:
            con = _attach_for_writing(path)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            m = _LOCK_HOLDER.search(message)
            raise DatabaseInUseError(str(path), m.group(1).strip() if m else None) from exc
        raise DatabaseNotFoundError(str(path), f"cannot open it ({message})") from exc
    except duckdb.Error as exc:
        if "file handle conflict" in str(exc).lower():  # already open for writing here
            raise DatabaseInUseError(str(path), f"this process, PID {os.getpid()}") from exc
        raise DatabaseNotFoundError(str(path), f"not a DuckDB database ({exc})") from exc
    if read_only:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        if "captures" not in tables:
            con.close()
            raise DatabaseNotFoundError(str(path), "not a kbharvest database (no captures table)")
    else:
        try:
            ensure_schema(con)
        except duckdb.Error as exc:
            con.close()
            raise KbharvestError(f"{path}: cannot create kbharvest's tables in it ({exc})") from exc
    return con


def _attach_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    # The file is attached (as "kb") to a connection of its own, and made its default
    # database with USE, which holds for that connection only: a cursor() of it starts in
    # the empty in-memory database (name tables kb.<table> there, or use the connection).
    # It is attached with small row groups. A batch's rows then fill whole row groups,
    # which DuckDB writes straight to the file as the batch inserts them; with the default
    # (122,880 rows) every commit's checkpoint rewrote the table's growing last row group,
    # and the cost of a batch grew with the database. 4,096 rather than 8,192 halves the
    # final checkpoint (0.4 vs 0.8 s for 100,000 records), for ~200 more bytes of DuckDB's
    # in-memory table metadata per record; queries measured the same. Readers open the
    # file as usual.
    # (DuckDB spills to <file>.tmp when the file is opened directly; keep that.)
    # A new file is written in DuckDB 1.5's storage format, whose DICT_FSST and ZSTD
    # compressions the schema names. A file made by an older kbharvest keeps its format (as
    # the option would convert it, and its tables, which name FSST and DICTIONARY, would
    # then store new rows uncompressed); ensure_schema leaves its tables as they are.
    options = f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
    if not path.exists():
        options += f", STORAGE_VERSION '{STORAGE_VERSION}'"
    con = duckdb.connect(":memory:", config={**_CONFIG, "temp_directory": f"{path}.tmp"})
    try:
        con.execute(f"ATTACH {_sql_str(str(path))} AS {WRITE_ALIAS} ({options})")
        con.execute(f"USE {WRITE_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


# What the schema names, and what a file of DuckDB's older storage formats has instead.
_OLDER_FORMAT_COMPRESSION = (("dict_fsst", "dictionary"), ("zstd", "fsst"))
_STORAGE_VERSION_TAG = re.compile(r"v(\d+)\.(\d+)")


def _older_storage_format(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the current database is stored in a format older than DuckDB 1.5's."""
    tag = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()[0]
    m = _STORAGE_VERSION_TAG.match(tag or "")
    return bool(m) and (int(m.group(1)), int(m.group(2))) < (1, 5)


_CREATE_TABLE = re.compile(r"(?:--[^\n]*\n)*\s*CREATE TABLE IF NOT EXISTS (\w+)")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table, index and view that is missing (idempotent).

    A table that exists is not declared again: in a file of an older storage format its
    CREATE would not bind (the compressions named need DuckDB 1.5's format). One that is
    missing from such a file (say, one ``duckdb kb.duckdb`` made empty) is created with the
    compressions that format has.
    """
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main'").fetchall()}
    older = _older_storage_format(con)
    for sql in statements():
        m = _CREATE_TABLE.match(sql)
        if m and m.group(1) in have:
            continue
        if m and older:
            for new_name, old_name in _OLDER_FORMAT_COMPRESSION:
                sql = sql.replace(f"USING COMPRESSION {new_name}", f"USING COMPRESSION {old_name}")
        con.execute(sql)
    con.execute("INSERT OR REPLACE INTO kb_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """A value of the kb_meta table, or None."""
    row = con.execute("SELECT value FROM kb_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set a value of the kb_meta table."""
    con.execute("INSERT OR REPLACE INTO kb_meta VALUES (?, ?)", [key, value])


# --------------------------------------------------------------------------- captures


def capture_key(sha256: str, url: str | None, timestamp: str | None) -> str:
    """The stable id of a capture: sha256 of its payload digest, URL and served timestamp."""
    return hashlib.sha256(f"{sha256}\n{url or ''}\n{timestamp or ''}".encode()).hexdigest()


def content_hash(article: Article) -> str:
    """md5 hex of the article's title, sections and file rows: changes with the content.

    The value of ``articles.content_hash``. It is computed where the record is made (in the
    parse workers), and is byte for byte what this SQL gives on the staged article (a test
    holds the two together; databases loaded before it moved here hold the same values):
    ``md5(concat_ws(chr(31), title, string_agg(heading || chr(30) || text, chr(31)),
    string_agg(concat_ws(chr(30), file_name, file_version, file_size, date, time), chr(31))))``
    """
    parts = [article.title] if article.title is not None else []
    if article.sections:
        parts.append("\x1f".join(f"{s.heading}\x1e{s.text}" for s in article.sections))
    rows = ["\x1e".join(str(v) for v in (r.file_name, r.file_version, r.file_size, r.date, r.time)
                        if v is not None)
            for t in article.file_tables for r in t.rows]
    if rows:
        parts.append("\x1f".join(rows))
    return hashlib.md5("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class CaptureInput:
    """One capture to load: a WARC response record or a plain file, with its provenance."""

    name: str
    body: bytes
    url: str | None = None
    archive: str | None = None
    requested_ts: str | None = None
    served_ts: str | None = None
    digest: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    from_warc: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def key(self, sha256: str | None = None) -> str:
        return capture_key(sha256 or self.sha256, self.url, self.served_ts)


@dataclass
class CaptureRecord:
    """A capture ready to load: provenance plus the article JSON, or the rejection reason."""

    capture_id: str
    input: str
    sha256: str
    parser_version: str
    article_json: str | None = None  # Article.model_dump_json(), as ``parse`` prints it
    content_hash: str | None = None  # content_hash(article), made with article_json
    rejection_reason: str | None = None
    template: str | None = None
    url: str | None = None
    archive: str | None = None
    requested_ts: str | None = None
    served_ts: str | None = None
    digest: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    size: int | None = None

    @classmethod
    def from_article(
        cls,
        article: Article,
        *,
        input: str,
        payload: bytes | None = None,
        parser_version: str | None = None,
        requested_ts: str | None = None,
        http_status: int | None = 200,
        content_type: str | None = "text/html",
    ) -> CaptureRecord:
        """Wrap an Article (made by the parser, or built directly) for loading.

        Provenance comes from ``article.source``; ``payload`` is the captured bytes (the
        article's JSON stands in when omitted) and keys the capture.
        """
        text = article.model_dump_json()
        body = payload if payload is not None else text.encode()
        sha = hashlib.sha256(body).hexdigest()
        src = article.source or Source()
        return cls(
            capture_id=capture_key(sha, src.url, src.timestamp),
            input=input,
            sha256=sha,
            parser_version=parser_version or _parser_version(),
            article_json=text,
            content_hash=content_hash(article),
            template=article.template,
            url=src.url,
            archive=src.archive,
            requested_ts=requested_ts,
            served_ts=src.timestamp,
            digest=src.digest,
            http_status=http_status,
            content_type=content_type,
            size=len(body),
        )

    def stage_line(self) -> str:
        """One JSON line of the staging file (the columns of ``STAGE_COLUMNS``)."""
        if self.article_json is not None and self.content_hash is None:
            self.content_hash = content_hash(Article.model_validate_json(self.article_json))
        s = _json_str
        return (f'{{"capture_id": {s(self.capture_id)}, "input": {s(self.input)}, '
                f'"url": {s(self.url)}, "archive": {s(self.archive)}, '
                f'"requested_ts": {s(self.requested_ts)}, "served_ts": {s(self.served_ts)}, '
                f'"digest": {s(self.digest)}, "sha256": {s(self.sha256)}, '
                f'"http_status": {_json_int(self.http_status)}, '
                f'"content_type": {s(self.content_type)}, "size": {_json_int(self.size)}, '
                f'"template": {s(self.template)}, "rejection_reason": {s(self.rejection_reason)}, '
                f'"parser_version": {s(self.parser_version)}, '
                f'"content_hash": {s(self.content_hash)}, '
                f'"article": {self.article_json or "null"}}}')


def _json_str(value: str | None) -> str:
    # (json.dumps of the whole dict cost twice as much, and this runs for every record)
    return "null" if value is None else _encode_basestring(value)


def _json_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _parser_version() -> str:
    from kbharvest.parse import PARSER_VERSION

    return str(PARSER_VERSION)


def iter_capture_inputs(paths: Iterable[Path], errors: list | None = None) -> Iterator[CaptureInput]:
    """Expand files, folders (sorted, recursively) and WARC files into captures, in order.

    An input that cannot be read at all (a broken WARC file, an oversized file) is not a
    capture: it is appended to ``errors`` as ``(input, reason)`` and the walk goes on.
    """
    from kbharvest.warcstore import is_warc, iter_captures

    for path in paths:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.is_file() and not any(part.startswith(".")
                                                      for part in p.relative_to(path).parts))
            yield from iter_capture_inputs(files, errors)
        elif not path.exists():
            if errors is not None:
                errors.append((str(path), "no such file"))
        elif is_warc(path):
            try:
                for cap in iter_captures(path):
                    yield CaptureInput(
                        name=cap.name, body=cap.body, url=cap.url or None,
                        archive=cap.archive, requested_ts=cap.requested_timestamp,
                        served_ts=cap.timestamp, digest=cap.digest, http_status=cap.status,
                        content_type=cap.content_type, from_warc=True,
                    )
            except InputError as exc:
                if errors is not None:
                    errors.append((str(path), exc.reason))
        else:
            size = path.stat().st_size
            if size > MAX_INPUT_BYTES:
                if errors is not None:
                    errors.append((str(path), f"input too large ({size} bytes)"))
                continue
            yield CaptureInput(name=str(path), body=path.read_bytes())


_TS14 = re.compile(r"^\d{14}$")


def parse_capture(item: CaptureInput, key: str | None = None, sha256: str | None = None,
                  parser_version: str | None = None) -> CaptureRecord:
    """Parse one capture into a CaptureRecord; never raises for a bad page (it is rejected).

    Runs in worker processes when loading with several jobs.
    """
    from kbharvest.parse import parse_document

    sha = sha256 or item.sha256
    rec = CaptureRecord(
        capture_id=key or item.key(sha), input=item.name, sha256=sha,
        parser_version=parser_version or _parser_version(), url=item.url,
        archive=item.archive, requested_ts=item.requested_ts, served_ts=item.served_ts,
        digest=item.digest, http_status=item.http_status, content_type=item.content_type,
        size=len(item.body),
    )
    if item.http_status is not None and item.http_status != 200:
        rec.rejection_reason = f"archived HTTP status {item.http_status}"
        return rec
    source = None
    if item.from_warc:
        ts = item.served_ts if item.served_ts and _TS14.match(item.served_ts) else None
        source = Source(url=item.url, timestamp=ts, archive=item.archive, digest=item.digest)
    try:
        article = parse_document(item.body, name=item.name, url=item.url, source=source,
                                 content_type=item.content_type)
    except (InputError, RejectedCapture, ParseError) as exc:
        rec.rejection_reason = exc.reason
        rec.template = getattr(exc, "template", None)
        return rec
    except KbharvestError as exc:
        rec.rejection_reason = str(exc)
        return rec
    except Exception as exc:  # a parser bug must not lose the rest of a long load
        rec.rejection_reason = f"parser failed: {type(exc).__name__}: {exc}"
        return rec
    rec.article_json = article.model_dump_json()
    rec.content_hash = content_hash(article)
    rec.template = article.template
    return rec


def _parse_job(args: tuple[CaptureInput, str, str, str]) -> CaptureRecord:
    return parse_capture(*args)


# --------------------------------------------------------------------------- bulk load


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_STAGE_COLUMNS_SQL = "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}"
                                     for k, v in STAGE_COLUMNS.items()) + "}"

_INSERTS: list[str] = [
    """
INSERT INTO captures
SELECT capture_id, input, url, archive, requested_ts, served_ts,
       try_strptime(served_ts, '%Y%m%d%H%M%S'), digest, sha256, http_status, content_type, size,
       CASE WHEN article IS NULL THEN 'rejected' ELSE 'article' END,
       article.kb_id, coalesce(article.template, template), rejection_reason, parser_version
FROM {stage}""",
    """
INSERT INTO articles
SELECT capture_id, art.kb_id, art.language, art.title, art.template, art.last_review,
       art.revision, art.symptoms, art.cause, art.resolution, art.workaround, art.status,
       art.more_information, art.restart.requirement, art.restart.text, art.replacement.text,
       coalesce(art.warnings, []), content_hash
FROM (SELECT capture_id, content_hash, article AS art FROM {stage} WHERE article IS NOT NULL)""",
    """
INSERT INTO sections
SELECT capture_id, kb_id, ordinal, sec.kind, sec.level, sec.heading, sec.text
FROM (SELECT capture_id, article.kb_id AS kb_id,
             unnest(range(1, len(article.sections) + 1)) AS ordinal,
             unnest(article.sections) AS sec
      FROM {stage} WHERE article IS NOT NULL)""",
    """
INSERT INTO prerequisites
SELECT capture_id, article.kb_id, article.prerequisites.text,
       coalesce(article.prerequisites.requirements, []),
       coalesce(article.prerequisites.kb_refs, [])
FROM {stage} WHERE article.prerequisites IS NOT NULL""",
    """
INSERT INTO file_tables
SELECT capture_id, kb_id, table_no, ft.caption, ft.architecture,
       coalesce(ft.rows_missing, false), len(coalesce(ft.rows, []))
FROM (SELECT capture_id, article.kb_id AS kb_id,
             unnest(range(1, len(article.file_tables) + 1)) AS table_no,
             unnest(article.file_tables) AS ft
      FROM {stage} WHERE article IS NOT NULL)""",
    r"""
INSERT INTO file_rows
WITH tabs AS (
    SELECT capture_id, article.kb_id AS kb_id,
           unnest(range(1, len(article.file_tables) + 1)) AS table_no,
           unnest(article.file_tables) AS ft
    FROM {stage} WHERE article IS NOT NULL),
rws AS (
    SELECT capture_id, kb_id, table_no, ft.caption AS caption, ft.architecture AS architecture,
           unnest(range(1, len(ft.rows) + 1)) AS row_no, unnest(ft.rows) AS fr
    FROM tabs)
SELECT capture_id, kb_id, table_no, row_no, caption, architecture,
       fr.file_name, fr.file_version,
       TRY_CAST(string_split(split_part(trim(fr.file_version), ' ', 1), '.') AS BIGINT[]),
       fr.file_size, fr.date, fr.time, fr.platform,
       -- exact header spellings: a lower-cased lookup costs a third of this insert
       coalesce(fr.extra['SP requirement'], fr.extra['SP Requirement'],
                fr.extra['SP requirements'], fr.extra['Service pack requirement']),
       coalesce(fr.extra['Service branch'], fr.extra['Service Branch']),
       fr.extra  -- always an object in an Article's JSON (a coalesce here cost 15%)
FROM rws""",
    """
INSERT INTO kb_refs
SELECT capture_id, kb_id, ref FROM (
    SELECT capture_id, article.kb_id AS kb_id, unnest(article.kb_refs) AS ref
    FROM {stage} WHERE article IS NOT NULL)""",
    """
INSERT INTO replacements
SELECT capture_id, kb_id, ordinal, ref FROM (
    SELECT capture_id, article.kb_id AS kb_id,
           unnest(range(1, len(article.replacement.replaces) + 1)) AS ordinal,
           unnest(article.replacement.replaces) AS ref
    FROM {stage} WHERE article.replacement IS NOT NULL)""",
    """
INSERT INTO applies_to
SELECT capture_id, kb_id, ordinal, product FROM (
    SELECT capture_id, article.kb_id AS kb_id,
           unnest(range(1, len(article.applies_to) + 1)) AS ordinal,
           unnest(article.applies_to) AS product
    FROM {stage} WHERE article IS NOT NULL)""",
    """
INSERT INTO keywords
SELECT capture_id, kb_id, ordinal, keyword FROM (
    SELECT capture_id, article.kb_id AS kb_id,
           unnest(range(1, len(article.keywords) + 1)) AS ordinal,
           unnest(article.keywords) AS keyword
    FROM {stage} WHERE article IS NOT NULL)""",
]


def _commit(con: duckdb.DuckDBPyConnection) -> None:
    # A seam of its own so the crash tests can stop a load just before a commit.
    con.execute("COMMIT")


def _checked_line(rec: CaptureRecord) -> str:
    """The record's staging line; a record too big for DuckDB's reader becomes a rejection."""
    line = rec.stage_line()
    if len(line) > MAX_RECORD_BYTES // 4:  # characters; up to 4 bytes each in UTF-8
        size = len(line.encode())
        if size > MAX_RECORD_BYTES:
            rec.article_json = rec.content_hash = None
            rec.rejection_reason = f"record too large to load ({size:,} bytes of JSON)"
            line = rec.stage_line()
    return line


class _StageFile:
    """One batch being staged: its JSON lines go to a file as the records arrive, so the
    loader holds no batch in memory, whatever the batch size."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # (a big buffer: lines are ~8 KB, and the default buffer made a system call of each)
        self.fh = open(path, "w", encoding="utf-8", buffering=STAGE_BUFFER)  # noqa: SIM115
        self.records = self.chars = self.articles = self.rejected = 0
        self.replace = False
        self.started = time.monotonic()

    def add(self, rec: CaptureRecord) -> None:
        line = _checked_line(rec)
        self.fh.write(line)
        self.fh.write("\n")
        self.records += 1
        self.chars += len(line) + 1
        if rec.article_json is None:
            self.rejected += 1
        else:
            self.articles += 1

    def close(self) -> Path:
        self.fh.close()
        return self.path


def write_stage(records: Iterable[CaptureRecord], path: Path) -> Path:
    """Write a batch as the staging JSON lines DuckDB reads."""
    stage = _StageFile(path)
    try:
        for rec in records:
            stage.add(rec)
    finally:
        stage.close()
    return path


def _read_stage_sql(stage: Path) -> str:
    return (f"SELECT * FROM read_json({_sql_str(str(stage))}, format = 'newline_delimited', "
            f"columns = {_STAGE_COLUMNS_SQL}, maximum_object_size = {MAX_RECORD_BYTES})")


def _attach_stage_db(con: duckdb.DuckDBPyConnection, workdir: Path) -> None:
    # The staged batch is a table of its own scratch database with small row groups: each
    # INSERT that spreads it over the tables then scans it with every thread (a temporary
    # table of one batch is a single row group, and so a single thread).
    con.execute(f"ATTACH {_sql_str(str(workdir / 'stage.duckdb'))} AS {STAGE_DB} "
                f"(ROW_GROUP_SIZE {STAGE_ROW_GROUP_SIZE})")


def load_stage(con: duckdb.DuckDBPyConnection, stage: Path, replace: bool = False, *,
               keep: bool = False) -> None:
    """Load one staging file in one transaction: all of it lands, or none of it.

    With ``replace``, rows already held for these capture ids are deleted first (reparse).
    The JSON lines are read into a scratch table first: into the stage database when
    :func:`load_records` has attached one, else into a temporary table. The staging file is
    deleted afterwards, unless ``keep``.
    """
    scratch = con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                          [STAGE_DB]).fetchone()[0] > 0
    table = f"{STAGE_DB}.stage" if scratch else "stage"
    try:
        if scratch:
            # Outside the transaction (it writes only the database that holds it). Stored
            # uncompressed: it is read once, and compressing it cost more than reading it.
            con.execute("SET force_compression = 'uncompressed'")
            try:
                con.execute(f"CREATE OR REPLACE TABLE {table} AS {_read_stage_sql(stage)}")
            finally:
                con.execute("RESET force_compression")
        con.execute("BEGIN TRANSACTION")
        try:
            if not scratch:
                con.execute(f"CREATE OR REPLACE TEMP TABLE stage AS {_read_stage_sql(stage)}")
            if replace:
                for name in DATA_TABLES:
                    con.execute(f"DELETE FROM {name} WHERE capture_id IN "
                                f"(SELECT capture_id FROM {table})")
            for sql in _INSERTS:
                con.execute(sql.replace("{stage}", table))
            if not scratch:
                con.execute("DROP TABLE stage")
            set_meta(con, "search_index", "stale")
            _commit(con)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    finally:
        if not keep:
            stage.unlink(missing_ok=True)


def write_batch(con: duckdb.DuckDBPyConnection, records: list[CaptureRecord], workdir: Path,
                replace: bool = False) -> None:
    """Stage and load one batch of records in one transaction."""
    load_stage(con, write_stage(records, workdir / "stage.jsonl"), replace)


@dataclass
class LoadReport:
    """What a load did: counts, problems, and the state of the search index."""

    db: str
    captures_seen: int = 0
    already_loaded: int = 0
    parsed: int = 0
    articles: int = 0
    rejected: int = 0
    batches: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    other_parser_versions: int = 0
    parser_version: str = ""
    search_index: str = ""
    seconds: float = 0.0
    memory_uncapped: bool = False  # a batch ran out of memory under the loader's cap

    @property
    def loaded(self) -> int:
        return self.articles + self.rejected


ProgressFn = Callable[[str, LoadReport], None]


def load_records(
    con: duckdb.DuckDBPyConnection,
    records: Iterable[CaptureRecord],
    *,
    batch_size: int = BATCH_SIZE,
    batch_seconds: float = BATCH_SECONDS,
    replace: bool = False,
    report: LoadReport | None = None,
    progress: ProgressFn | None = None,
    known: dict[bytes | str, str | None] | None = None,
) -> LoadReport:
    """Bulk-load records into an open database, ``batch_size`` per transaction.

    A batch is also committed once it holds ``BATCH_BYTES`` of JSON, or has been filling for
    ``batch_seconds``. Records whose capture id the database already holds are skipped
    unless ``replace``. Does not rebuild the search index (call
    :func:`kbharvest.search.build_index`).
    """
    report = report or LoadReport(db="")
    known = _known_ids(con) if known is None else known  # (load() shares its own)
    workdir = _workdir(con)
    # DuckDB keeps what it writes cached up to its memory limit: cap it while loading (see
    # LOAD_MEMORY_BASE_MB).
    threads, limit_before = con.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()
    threads = int(threads)
    cap = LOAD_MEMORY_BASE_MB + threads * LOAD_MEMORY_PER_THREAD_MB
    try:
        con.execute(f"SET memory_limit = '{cap}MB'")
    except duckdb.Error:  # DuckDB already holds more than that: load without the cap
        report.memory_uncapped = True
    indexes_dropped = stage_db = False
    # Two-stage pipeline: while DuckDB loads batch k on the writer thread (it releases the
    # GIL), this thread stages batch k+1. Still one writer, one batch at a time.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kbharvest-load")
    pending: tuple[Future, _StageFile] | None = None
    slot = 0

    def submit(batch: _StageFile, more: bool) -> None:
        nonlocal pending, indexes_dropped
        path = batch.close()
        finish()
        if not indexes_dropped and (more or batch.replace):
            # A load of more than one batch: its rows go in faster without the indexes,
            # which are built again at the end. A smaller load (the usual incremental one)
            # keeps them, as rebuilding costs as much as the database holds; unless it
            # replaces rows (DuckDB cannot delete and insert one key of a unique index in
            # one transaction).
            _drop_indexes(con)
            indexes_dropped = True
        pending = (writer.submit(load_batch, path, batch.replace), batch)

    def load_batch(path: Path, batch_replace: bool) -> None:
        try:
            load_stage(con, path, batch_replace, keep=True)
        except duckdb.OutOfMemoryException:
            # The batch was rolled back: run it again, and the rest, without the cap.
            report.memory_uncapped = True
            _set_memory_limit(con, limit_before)
            load_stage(con, path, batch_replace)
        else:
            path.unlink(missing_ok=True)

    def finish() -> None:
        nonlocal pending
        if pending is None:
            return
        future, done = pending
        pending = None
        future.result()
        report.batches += 1
        report.articles += done.articles
        report.rejected += done.rejected
        if progress:
            progress("batch", report)

    def new_batch() -> _StageFile:
        nonlocal slot
        slot ^= 1
        return _StageFile(workdir / f"stage{slot}.jsonl")

    ok = False
    batch: _StageFile | None = None
    try:
        for rec in records:
            key = _id_key(rec.capture_id)
            if key in known:
                if not replace or known[key] is None:
                    report.already_loaded += 1
                    continue
                replacing = True
            else:
                replacing = False
            known[key] = None  # None: written in this run
            if not stage_db:
                _attach_stage_db(con, workdir)
                stage_db = True
            if batch is None:
                batch = new_batch()
            batch.add(rec)
            batch.replace |= replacing
            if (batch.records >= batch_size or batch.chars >= BATCH_BYTES
                    or time.monotonic() - batch.started > batch_seconds):
                submit(batch, more=True)
                batch = None
        if batch is not None:
            submit(batch, more=False)
            batch = None
        finish()
        ok = True
    finally:
        if pending is not None:  # an error upstream: let the batch in flight end first
            with contextlib.suppress(Exception):
                pending[0].result()
        writer.shutdown(wait=True)
        if batch is not None:
            batch.close()
        if stage_db:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DETACH {STAGE_DB}")
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            if indexes_dropped:  # still under the cap: building them is the load's peak
                try:
                    _create_indexes(con)
                except duckdb.OutOfMemoryException:
                    report.memory_uncapped = True
                    _set_memory_limit(con, limit_before)
                    _create_indexes(con)
        except duckdb.Error:
            if ok:
                raise
        finally:
            with contextlib.suppress(duckdb.Error):
                _set_memory_limit(con, limit_before)
    return report


def _workdir(con: duckdb.DuckDBPyConnection) -> Path:
    """A fresh folder for the load's staging files: ``<database>.load`` beside the database
    (what a load killed with -9 left there is removed first; only one writer holds the
    database), or a temporary folder for a database in memory."""
    path = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()[0]
    if not path:
        return Path(tempfile.mkdtemp(prefix="kbharvest-load-"))
    workdir = Path(f"{path}.load")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(exist_ok=True)  # (a file still open elsewhere may survive the removal)
    return workdir


_SHOWN_LIMIT = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)")


def _set_memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> None:
    """Set DuckDB's memory limit back to ``limit``, as current_setting() showed it.

    Not RESET: DuckDB 1.5 then shows the default but keeps the cap. And not the shown value
    as it is: it is rounded down to a tenth, so setting it back would lower the limit a
    little with every load; half a tenth more shows (and is) the same again.
    """
    m = _SHOWN_LIMIT.fullmatch(limit.strip())
    if m and "." in m.group(1):
        limit = f"{float(m.group(1)) + 0.05:.2f} {m.group(2)}"
    con.execute(f"SET memory_limit = {_sql_str(limit)}")


def _drop_indexes(con: duckdb.DuckDBPyConnection) -> None:
    for name in INDEX_NAMES:
        con.execute(f"DROP INDEX IF EXISTS {name}")


def _create_indexes(con: duckdb.DuckDBPyConnection) -> None:
    # After a kill -9 they are missing; connect() builds them again (IF NOT EXISTS).
    for sql in INDEXES:
        con.execute(sql)


_CAPTURE_ID = re.compile(r"[0-9a-f]{64}")


def _id_key(capture_id: str) -> bytes | str:
    """The capture id as held in memory while loading: for an id made by
    :func:`capture_key` (sha256 hex), its first 128 bits as 16 bytes, a third of the size;
    any other id as it is."""
    if _CAPTURE_ID.fullmatch(capture_id):
        return bytes.fromhex(capture_id[:32])
    return capture_id


def _known_ids(con: duckdb.DuckDBPyConnection) -> dict[bytes | str, str | None]:
    """Every capture the database holds, keyed by :func:`_id_key`, with its parser version."""
    known: dict[bytes | str, str | None] = {}
    versions: dict[str, str] = {}
    cur = con.execute("SELECT capture_id, parser_version FROM captures")
    while rows := cur.fetchmany(50_000):
        for capture_id, version in rows:
            known[_id_key(capture_id)] = versions.setdefault(version, version)
    return known


def load(
    paths: Iterable[Path],
    db: Path | str = DEFAULT_DB,
    *,
    jobs: int = 1,
    reparse: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: ProgressFn | None = None,
) -> LoadReport:
    """Parse and load every capture under ``paths`` into the database at ``db``.

    Incremental: captures already in the database are not parsed again, unless ``reparse``
    (then every capture found is parsed again and its rows replaced: use it after a parser
    change). Rejected captures are loaded with their reasons. Each batch is one transaction,
    so a load killed at any point leaves whole batches; running it again completes it.
    Raises DatabaseInUseError when another process is writing the database.
    """
    started = time.monotonic()
    version = _parser_version()
    report = LoadReport(db=str(db), parser_version=version)
    paths = list(paths)
    con = connect(db)
    try:
        known = _known_ids(con)
        pool = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
        try:
            records = _parsed(paths, known, reparse, version, min(batch_size, PARSE_WINDOW),
                              pool, jobs, report, progress)
            load_records(con, records, batch_size=batch_size, replace=reparse, report=report,
                         progress=progress, known=known)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        report.other_parser_versions = con.execute(
            "SELECT count(*) FROM captures WHERE parser_version <> ?", [version]).fetchone()[0]
        if progress:
            progress("index", report)
        from kbharvest.search import ensure_index

        report.search_index = ensure_index(con)
    finally:
        con.close()
    report.seconds = time.monotonic() - started
    return report


def _parsed(paths, known, reparse, version, window_size, pool, jobs, report, progress
            ) -> Iterator[CaptureRecord]:
    """Walk the inputs; yield a CaptureRecord for each capture that needs (re)loading."""
    seen: set[bytes | str] = set()
    window: list[tuple[CaptureInput, str, str, str]] = []

    def run(window):
        if pool is None:
            return map(_parse_job, window)
        chunk = max(1, len(window) // (4 * jobs))
        return pool.map(_parse_job, window, chunksize=chunk)

    for item in iter_capture_inputs(paths, report.errors):
        report.captures_seen += 1
        sha = item.sha256
        key = item.key(sha)
        short = _id_key(key)
        if short in seen or (short in known and not reparse):
            report.already_loaded += short not in seen
            seen.add(short)
            if progress:
                progress("scan", report)
            continue
        seen.add(short)
        window.append((item, key, sha, version))
        if len(window) >= window_size:
            for rec in run(window):
                report.parsed += 1
                yield rec
            window = []
        if progress:
            progress("scan", report)
    if window:
        for rec in run(window):
            report.parsed += 1
            yield rec


def build(snapshots: Path = Path("snapshots"), db: Path | str = DEFAULT_DB, *, jobs: int = 1,
          progress: ProgressFn | None = None):
    """The main job: load every capture in ``snapshots`` into ``db``; return (report, stats)."""
    from kbharvest.store_read import stats

    if not Path(snapshots).exists():
        raise InputError(str(snapshots), "no such folder (the shipped captures live in snapshots/)")
    report = load([Path(snapshots)], db, jobs=jobs, progress=progress)
    return report, stats(db)


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """Every row of a data table in a canonical order (to compare two databases)."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    order = ", ".join(f"{c} NULLS FIRST" for c in cols if c != "extra")
    return con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


__all__ = [
    "BATCH_SIZE",
    "DATA_TABLES",
    "DEFAULT_DB",
    "CaptureInput",
    "CaptureRecord",
    "LoadReport",
    "build",
    "capture_key",
    "connect",
    "content_hash",
    "iter_capture_inputs",
    "load",
    "load_records",
    "load_stage",
    "parse_capture",
    "write_batch",
    "write_stage",
]
