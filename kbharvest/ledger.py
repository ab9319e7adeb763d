"""The crawl ledger (SQLite in ``snapshots/``): every capture's state and the CDX resume points.

States of a capture: ``candidate`` (listed by the CDX, not chosen), ``queued`` (chosen, to
fetch), ``fetched`` (whole in a WARC file), ``duplicate`` (served a payload already stored),
``rejected`` (not an article; ``reason`` says why) and ``failed`` (``reason``; tried again on
the next run). Each change is one transaction, so a crash loses at most the step under way.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kbharvest.errors import InputError

# hidden so that `kbharvest parse snapshots/` reads only the WARC files
LEDGER_NAME = ".kbharvest-ledger.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS queries (
    url TEXT NOT NULL, match_type TEXT NOT NULL,
    resume_key TEXT, done INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (url, match_type)
);
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,            -- the CDX row's original URL
    timestamp TEXT NOT NULL,      -- the CDX row's (requested) timestamp
    kb_id INTEGER, language TEXT, form TEXT,
    mimetype TEXT, statuscode TEXT, digest TEXT, length TEXT,
    state TEXT NOT NULL DEFAULT 'candidate',
    reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    served_ts TEXT, served_url TEXT, status INTEGER,
    body_digest TEXT, digest_match INTEGER, chain TEXT,
    warc_file TEXT, warc_offset INTEGER, warc_length INTEGER,
    origin TEXT NOT NULL DEFAULT 'crawl', updated TEXT,
    UNIQUE (url, timestamp)
);
CREATE INDEX IF NOT EXISTS captures_kb ON captures (kb_id, state);
CREATE INDEX IF NOT EXISTS captures_state ON captures (state);
CREATE INDEX IF NOT EXISTS captures_body ON captures (body_digest);
CREATE TABLE IF NOT EXISTS warc_files (
    name TEXT PRIMARY KEY, committed_end INTEGER NOT NULL, records INTEGER NOT NULL
);
"""

STATES = ("candidate", "queued", "fetched", "duplicate", "rejected", "failed")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Ledger:
    """The crawl's memory. One process at a time holds it (an exclusive lock file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / ".kbharvest.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._lock_fd)
            raise InputError(str(self.directory), "another kbharvest fetch/import is using "
                             "this snapshots folder; wait for it to finish") from exc
        self.db = sqlite3.connect(self.directory / LEDGER_NAME, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()
        os.close(self._lock_fd)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------

    def tx(self) -> _Tx:
        """``with ledger.tx():`` — one atomic step."""
        return _Tx(self.db)

    # -- CDX queries -------------------------------------------------------------------------

    def query_state(self, url: str, match_type: str) -> tuple[str | None, bool]:
        row = self.db.execute("SELECT resume_key, done FROM queries WHERE url=? AND match_type=?",
                              (url, match_type)).fetchone()
        return (row["resume_key"], bool(row["done"])) if row else (None, False)

    def save_page(self, url: str, match_type: str, rows: Iterable[dict[str, Any]],
                  resume_key: str | None, done: bool) -> int:
        """Store a CDX page's rows and the query's resume point together. Returns new rows."""
        added = 0
        with self.tx():
            for r in rows:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO captures (url, timestamp, kb_id, language, form, "
                    "mimetype, statuscode, digest, length, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (r["url"], r["timestamp"], r["kb_id"], r["language"], r["form"],
                     r["mimetype"], r["statuscode"], r["digest"], r["length"], _now()))
                added += cur.rowcount
            self.db.execute(
                "INSERT INTO queries (url, match_type, resume_key, done, pages, rows) "
                "VALUES (?,?,?,?,1,?) ON CONFLICT (url, match_type) DO UPDATE SET "
                "resume_key=excluded.resume_key, done=excluded.done, pages=pages+1, "
                "rows=rows+excluded.rows",
                (url, match_type, resume_key, int(done), added))
        return added

    # -- captures ----------------------------------------------------------------------------

    def rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    def get(self, capture_id: int) -> sqlite3.Row:
        return self.db.execute("SELECT * FROM captures WHERE id=?", (capture_id,)).fetchone()

    def find(self, url: str, timestamp: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM captures WHERE url=? AND timestamp=?",
                               (url, timestamp)).fetchone()

    def update(self, capture_id: int, **fields: Any) -> None:
        """Set fields of one capture (outside or inside a ``tx``)."""
        fields["updated"] = _now()
        cols = ", ".join(f"{k}=?" for k in fields)
        self.db.execute(f"UPDATE captures SET {cols} WHERE id=?", (*fields.values(), capture_id))

    def insert(self, **fields: Any) -> int:
        fields.setdefault("updated", _now())
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        cur = self.db.execute(f"INSERT INTO captures ({cols}) VALUES ({marks})",
                              tuple(fields.values()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def commit_stored(self, capture_id: int, warc_file: str, offset: int, length: int,
                      **fields: Any) -> None:
        """Mark a capture fetched and advance its WARC file's committed end, atomically."""
        with self.tx():
            self.update(capture_id, state="fetched", warc_file=warc_file, warc_offset=offset,
                        warc_length=length, **fields)
            self.note_file(warc_file, offset + length)

    def note_file(self, name: str, end: int) -> None:
        self.db.execute(
            "INSERT INTO warc_files (name, committed_end, records) VALUES (?,?,1) "
            "ON CONFLICT (name) DO UPDATE SET committed_end=max(committed_end, excluded.committed_end), "
            "records=records+1", (name, end))

    def committed_end(self, name: str) -> int | None:
        row = self.db.execute("SELECT committed_end FROM warc_files WHERE name=?",
                              (name,)).fetchone()
        return row["committed_end"] if row else None

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for r in self.db.execute("SELECT state, count(*) AS n FROM captures GROUP BY state"):
            out[r["state"]] = r["n"]
        return out

    def iter_state(self, state: str) -> Iterator[sqlite3.Row]:
        yield from self.db.execute("SELECT * FROM captures WHERE state=? ORDER BY kb_id, "
                                   "timestamp, url", (state,)).fetchall()

    def meta(self, key: str, value: str | None = None) -> str | None:
        if value is not None:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)", (key, value))
            return value
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
