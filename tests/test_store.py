"""The DuckDB store against a real database file: schema, bulk load, idempotence, views."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kbharvest import store, store_schema
from kbharvest.cli import cli
from kbharvest.errors import DatabaseInUseError, DatabaseNotFoundError
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
from kbharvest.store import CaptureRecord, connect, load_records, table_rows
from kbharvest.store_read import article_from_db, get_article, stats
from kbharvest.store_schema import (
    ARTICLE_TYPE,
    DATA_TABLES,
    INDEX_NAMES,
    STAGE_COLUMNS,
    render_ddl,
)

ROOT = Path(__file__).resolve().parents[1]


def make_article(kb_id: int = 977153, *, ts: str = "20100115120000", language: str = "en-us",
                 last_review: dt.date = dt.date(2009, 12, 8), revision: str = "1.0",
                 symptoms: str = "The computer stops responding with Stop error 0xD6 when a "
                 "volume snapshot is taken.", title: str | None = None,
                 files: list[tuple[str, str]] | None = None) -> Article:
    """A complete made-up hotfix article; every part of the record is filled in."""
    files = files if files is not None else [("Volsnap.sys", "6.0.6002.22283"),
                                             ("Ntfs.sys", "6.0.6002.9999")]
    return Article(
        kb_id=kb_id,
        title=title or f"Stop error 0xD6 on a computer that takes snapshots (KB{kb_id})",
        language=language,
        last_review=last_review,
        revision=revision,
        template="kb-classic",
        sections=[
            Section(kind="symptoms", level=1, heading="SYMPTOMS", text=symptoms),
            Section(kind="cause", level=1, heading="CAUSE",
                    text="A race condition in the snapshot driver.\n\nIt frees a buffer twice."),
            Section(kind="resolution", level=1, heading="RESOLUTION", text=""),
            Section(kind="prerequisites", level=2, heading="Prerequisites",
                    text="You must be running Windows Vista SP2 (KB935791)."),
            Section(kind="file_information", level=2, heading="File information", text=""),
        ],
        symptoms=symptoms,
        cause="A race condition in the snapshot driver.\n\nIt frees a buffer twice.",
        resolution="Prerequisites\nYou must be running Windows Vista SP2 (KB935791).",
        prerequisites=Prerequisites(text="You must be running Windows Vista SP2 (KB935791).",
                                    requirements=["Windows Vista Service Pack 2 (SP2)"],
                                    kb_refs=[935791]),
        restart=Restart(requirement="required", text="You must restart the computer."),
        replacement=Replacement(replaces=[], text="This hotfix does not replace any other."),
        file_tables=[
            FileTable(caption="For all supported x86-based versions", architecture="x86",
                      rows=[FileRow(file_name=name, file_version=version, file_size=1_234_567,
                                    date=dt.date(2009, 11, 2), time="10:05", platform="x86",
                                    extra={"SP requirement": "SP2", "Service branch": "LDR",
                                           "Folder": r"C:\Windows"})
                            for name, version in files]),
            FileTable(caption="For all supported x64-based versions", architecture="x64",
                      rows_missing=True),
        ],
        kb_refs=[935791, 968849],
        applies_to=["Windows Vista Service Pack 2", "Windows Server 2008 Service Pack 2"],
        keywords=["kbfix", "kbqfe", "kbhotfixserver"],
        source=Source(url=f"http://support.microsoft.com/kb/{kb_id}", timestamp=ts,
                      archive="web.archive.org", digest="3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"),
        warnings=["one paragraph could not be placed"],
    )


def rejected(name: str, reason: str = "page not found (soft 404)") -> CaptureRecord:
    sha = store.hashlib.sha256(name.encode()).hexdigest()
    return CaptureRecord(capture_id=store.capture_key(sha, f"http://x/{name}", None), input=name,
                         sha256=sha, parser_version="1", rejection_reason=reason,
                         url=f"http://x/{name}", http_status=200)


def load_into(db: Path, records) -> store.LoadReport:
    con = connect(db)
    try:
        report = load_records(con, records, batch_size=3)
        from kbharvest.search import ensure_index

        ensure_index(con)
    finally:
        con.close()
    return report


def all_tables(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: table_rows(con, t) for t in DATA_TABLES}
    finally:
        con.close()


def corpus() -> list[CaptureRecord]:
    """Three articles, one with three captures in two languages, and two rejections."""
    arts = [
        make_article(977153, ts="20100115120000", revision="1.0"),
        make_article(977153, ts="20110301000000", revision="2.0",
                     last_review=dt.date(2010, 6, 1)),
        make_article(977153, ts="20120301000000", revision="2.0",
                     last_review=dt.date(2010, 6, 1),
                     files=[("Volsnap.sys", "6.0.6002.22400")]),
        make_article(977153, ts="20100301000000", language="de-de"),
        make_article(2598133, ts="20130101000000", title="Print spooler leaks memory",
                     symptoms="The print spooler service leaks memory when a queue is paused."),
        make_article(4487012, ts="20190101000000", title="Security update for the kernel",
                     symptoms="A remote code execution vulnerability exists in the kernel."),
    ]
    return [CaptureRecord.from_article(a, input=f"case{i}") for i, a in enumerate(arts)] + [
        rejected("notfound"), rejected("signin", "sign-in page, not an article")]


# --------------------------------------------------------------------------- schema


def test_every_article_field_has_a_column_in_the_staging_type():
    for name in Article.model_fields:
        assert re.search(rf"\b{name} ", ARTICLE_TYPE), f"Article.{name} is not loaded"


def test_schemas_kb_sql_is_up_to_date():
    path = ROOT / "schemas" / "kb.sql"
    assert path.read_text(encoding="utf-8") == render_ddl(), (
        "schemas/kb.sql is out of date: run `python -m kbharvest.store_schema`")


def test_schemas_kb_sql_creates_a_working_database(tmp_path):
    con = duckdb.connect()
    # as its header says: the compressions it names need DuckDB 1.5's storage format
    con.execute(f"ATTACH '{tmp_path / 'ddl.duckdb'}' AS kb (STORAGE_VERSION 'v1.5.0')")
    con.execute("USE kb")
    con.execute((ROOT / "schemas" / "kb.sql").read_text(encoding="utf-8"))
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() "
                                       "WHERE NOT internal").fetchall()}
    assert {"latest_articles", "article_history", "triples", "files"} <= views


# The SQL the loader used to hash an article's content, and still the definition of the value.
CONTENT_HASH_SQL = """
SELECT capture_id, md5(concat_ws(chr(31), article.title,
    list_aggregate(list_transform(article.sections, x -> x.heading || chr(30) || x.text),
                   'string_agg', chr(31)),
    list_aggregate(list_transform(flatten(list_transform(article.file_tables, t -> t.rows)),
                                  r -> concat_ws(chr(30), r.file_name, r.file_version,
                                                 r.file_size, r.date, r.time)),
                   'string_agg', chr(31))))
FROM read_json(?, format = 'newline_delimited', columns = {columns})
WHERE article IS NOT NULL"""


def test_a_staging_line_is_the_json_of_the_records_columns():
    odd = 'quote " backslash \\ tab \t newline \n bell \x07 Größe 日本 \u2028 end'
    rec = CaptureRecord(capture_id="id-" + odd, input=odd, sha256="ab" * 32,
                        parser_version="1", url="http://x/" + odd, archive=None,
                        http_status=404, size=0, rejection_reason=odd, template=None)
    got = json.loads(rec.stage_line())
    assert list(got) == [c for c in STAGE_COLUMNS if c != "outcome"]  # (derived in SQL)
    assert got["input"] == got["rejection_reason"] == odd
    assert got["capture_id"] == "id-" + odd and got["url"] == "http://x/" + odd
    assert (got["http_status"], got["size"], got["archive"], got["article"]) == (404, 0, None, None)
    article = make_article()
    rec = CaptureRecord.from_article(article, input="x")
    got = json.loads(rec.stage_line())
    assert Article.model_validate(got["article"]) == article
    assert got["content_hash"] == store.content_hash(article)


def test_content_hash_is_the_sql_definition_computed_in_python(tmp_path):
    arts = [make_article(), make_article(title="Ünïcödé 日本語 title", files=[]),
            make_article(files=[("a.dll", "1.0")]).model_copy(update={"title": None}),
            make_article().model_copy(update={"sections": [], "file_tables": []}),
            make_article(files=[("no-version.dll", "2.0")]).model_copy(update={"file_tables": [
                FileTable(rows=[FileRow(file_name="bare.dll")])]})]
    records = [CaptureRecord.from_article(a, input=f"h{i}") for i, a in enumerate(arts)]
    stage = store.write_stage(records, tmp_path / "stage.jsonl")
    con = duckdb.connect()
    got = dict(con.execute(CONTENT_HASH_SQL.format(columns=store._STAGE_COLUMNS_SQL),
                           [str(stage)]).fetchall())
    assert got == {r.capture_id: r.content_hash for r in records}
    assert len(set(got.values())) == len(arts)


# --------------------------------------------------------------------------- loading


def test_article_round_trips_through_the_tables_unchanged(tmp_path):
    db = tmp_path / "kb.duckdb"
    article = make_article()
    rec = CaptureRecord.from_article(article, input="page.html")
    load_into(db, [rec])
    con = connect(db, read_only=True)
    try:
        assert article_from_db(con, rec.capture_id) == article
    finally:
        con.close()


def test_loading_the_same_records_twice_changes_nothing(tmp_path):
    db = tmp_path / "kb.duckdb"
    first = load_into(db, corpus())
    before = all_tables(db)
    second = load_into(db, corpus())
    assert (first.articles, first.rejected) == (6, 2)
    assert (second.articles, second.rejected, second.already_loaded) == (0, 0, 8)
    assert all_tables(db) == before


def test_two_load_orders_give_identical_tables(tmp_path):
    records = corpus()
    load_into(tmp_path / "a.duckdb", records)
    load_into(tmp_path / "b.duckdb", list(reversed(records)))
    # and in two runs, the second one half overlapping the first
    load_into(tmp_path / "c.duckdb", records[::2])
    load_into(tmp_path / "c.duckdb", records[1:])
    a = all_tables(tmp_path / "a.duckdb")
    assert a == all_tables(tmp_path / "b.duckdb") == all_tables(tmp_path / "c.duckdb")
    assert len(a["captures"]) == 8


def test_duplicates_inside_one_run_are_loaded_once(tmp_path):
    db = tmp_path / "kb.duckdb"
    rec = CaptureRecord.from_article(make_article(), input="a.html")
    report = load_into(db, [rec, rec, CaptureRecord.from_article(make_article(), input="b")])
    assert report.articles == 1
    assert all_tables(db)["captures"][0][1] == "a.html"


def test_rejected_captures_are_stored_with_their_reasons(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus())
    s = stats(db)
    assert s.totals["rejected"] == 2
    assert dict(s.rejections) == {"page not found (soft 404)": 1,
                                  "sign-in page, not an article": 1}


def test_views_latest_history_triples_and_files(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus())
    con = connect(db, read_only=True)
    try:
        latest = con.execute("SELECT kb_id, language, served_ts, captures FROM latest_articles "
                             "ORDER BY kb_id, language").fetchall()
        assert latest == [(977153, "de-de", "20100301000000", 1),
                          (977153, "en-us", "20120301000000", 3),
                          (2598133, "en-us", "20130101000000", 1),
                          (4487012, "en-us", "20190101000000", 1)]
        history = con.execute(
            "SELECT capture_no, revision, previous_revision, revision_changed, "
            "last_review_changed, content_changed FROM article_history "
            "WHERE kb_id = 977153 AND language = 'en-us' ORDER BY capture_no").fetchall()
        assert history == [(1, "1.0", None, None, None, None),
                           (2, "2.0", "1.0", True, True, False),
                           (3, "2.0", "2.0", False, False, True)]
        assert con.execute("SELECT count(*) FROM triples").fetchone()[0] == 4
        files = con.execute(
            "SELECT file_name, file_version, sp_requirement, service_branch, seen_in_captures "
            "FROM files WHERE kb_id = 977153 ORDER BY version_key DESC, file_name").fetchall()
        assert files == [("Volsnap.sys", "6.0.6002.22400", "SP2", "LDR", 1),
                         ("Volsnap.sys", "6.0.6002.22283", "SP2", "LDR", 3),
                         ("Ntfs.sys", "6.0.6002.9999", "SP2", "LDR", 3)]
    finally:
        con.close()


@pytest.mark.parametrize(("lower", "higher"), [
    ("6.0.6002.9999", "6.0.6002.22283"),
    ("6.0.6001.22283", "6.0.6002.18005"),
    ("2.0.50727.42", "2.0.50727.4016"),
    ("6.1.7600.16385 (win7_rtm.090713-1255)", "6.1.7601.17514"),
])
def test_version_key_sorts_file_versions_as_numbers(tmp_path, lower, higher):
    db = tmp_path / "kb.duckdb"
    load_into(db, [CaptureRecord.from_article(make_article(files=[("a.dll", lower),
                                                                  ("b.dll", higher)]),
                                              input="x")])
    con = connect(db, read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT file_name FROM file_rows ORDER BY version_key").fetchall()]
    finally:
        con.close()
    assert names == ["a.dll", "b.dll"]


def test_a_record_too_big_to_stage_is_stored_as_a_rejection_and_the_rest_loads(
        tmp_path, monkeypatch):
    monkeypatch.setattr(store, "MAX_RECORD_BYTES", 16_384)
    big = make_article(977160, symptoms="Stop error 0xD6. " * 2_000)  # ~34 KB of JSON
    records = [CaptureRecord.from_article(make_article(977153), input="small"),
               CaptureRecord.from_article(big, input="big")]
    report = load_into(tmp_path / "kb.duckdb", records)
    assert (report.articles, report.rejected) == (1, 1)
    con = connect(tmp_path / "kb.duckdb", read_only=True)
    try:
        rows = con.execute("SELECT input, outcome, kb_id, rejection_reason FROM captures "
                           "ORDER BY input").fetchall()
        assert con.execute("SELECT kb_id FROM articles").fetchall() == [(977153,)]
    finally:
        con.close()
    assert rows[0][:3] == ("big", "rejected", None)
    assert re.fullmatch(r"record too large to load \([\d,]+ bytes of JSON\)", rows[0][3])
    assert rows[1][:3] == ("small", "article", 977153)


def test_a_batch_that_runs_out_of_memory_is_loaded_again_without_the_cap(
        tmp_path, monkeypatch):
    monkeypatch.setattr(store, "LOAD_MEMORY_BASE_MB", 0)
    monkeypatch.setattr(store, "LOAD_MEMORY_PER_THREAD_MB", 1)
    arts = [make_article(900000 + i, symptoms="Stop error 0xD6. " * 200) for i in range(300)]
    report = load_into(tmp_path / "kb.duckdb", [CaptureRecord.from_article(a, input=f"r{i}")
                                                for i, a in enumerate(arts)])
    assert report.memory_uncapped
    assert report.articles == 300
    con = connect(tmp_path / "kb.duckdb", read_only=True)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT capture_id) FROM sections"
                           ).fetchone() == (1_500, 300)
    finally:
        con.close()


def test_loaded_tables_are_compressed_though_the_stage_is_not(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus() * 1)
    con = connect(db, read_only=True)
    try:
        used = dict(con.execute(
            "SELECT column_name, list(DISTINCT compression ORDER BY compression) "
            "FROM pragma_storage_info('sections') GROUP BY ALL").fetchall())
    finally:
        con.close()
    assert "DICT_FSST" in used["capture_id"] and "ZSTD" in used["text"]  # named in the schema
    # DuckDB's own choice, not the stage's forced 'uncompressed'
    assert "Uncompressed" not in used["ordinal"] and "Uncompressed" not in used["level"]


def _older_format_database(db: Path, statements) -> None:
    """A file as DuckDB makes it by default (its older storage format), with ``statements``
    run naming the compressions that format has (FSST and DICTIONARY)."""
    old = duckdb.connect(str(db))
    try:
        for sql in statements:
            old.execute(sql.replace("USING COMPRESSION dict_fsst", "USING COMPRESSION dictionary")
                        .replace("USING COMPRESSION zstd", "USING COMPRESSION fsst"))
    finally:
        old.close()


def test_a_database_of_the_older_storage_format_keeps_its_format_and_loads(tmp_path):
    # A file made before the schema named DICT_FSST and ZSTD: DuckDB's default storage
    # format, FSST and DICTIONARY named instead. It is opened, loaded into and read as it is.
    db = tmp_path / "old.duckdb"
    _older_format_database(db, store.statements())
    records = corpus()
    load_into(db, records[:3])
    load_into(db, records[3:])
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone()[0] != "v1.5.0+"
        used = {r[0] for r in con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('sections') "
            "WHERE column_name = 'text'").fetchall()}
        assert "FSST" in used and "Uncompressed" not in used
    finally:
        con.close()
    fresh = tmp_path / "new.duckdb"
    load_into(fresh, records)
    assert all_tables(db) == all_tables(fresh)


@pytest.mark.parametrize("tables_before", [0, 3])
def test_an_older_format_file_missing_tables_gets_them_in_its_own_compressions(tmp_path,
                                                                             tables_before):
    # An empty file (what `duckdb kb.duckdb` leaves) or one an older load left half made: in
    # DuckDB's default format, where DICT_FSST and ZSTD cannot be named.
    db = tmp_path / "kb.duckdb"
    _older_format_database(db, store_schema.TABLES[:tables_before])
    records = corpus()
    load_into(db, records)
    fresh = tmp_path / "new.duckdb"
    load_into(fresh, records)
    assert all_tables(db) == all_tables(fresh)
    con = connect(db, read_only=True)
    try:
        used = {r[0] for r in con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('sections') "
            "WHERE column_name = 'text'").fetchall()}
    finally:
        con.close()
    assert "FSST" in used


def test_every_table_statement_is_recognised_by_ensure_schema():
    names = [store._CREATE_TABLE.match(sql.strip()) for sql in store_schema.TABLES]
    assert all(names) and len({m.group(1) for m in names}) == len(store_schema.TABLES)
    assert not any(store._CREATE_TABLE.match(sql.strip())
                   for sql in (*store_schema.INDEXES, *store_schema.VIEWS))


def test_a_new_database_is_written_in_duckdb_1_5s_storage_format(tmp_path):
    db = tmp_path / "kb.duckdb"
    connect(db).close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone()[0] == "v1.5.0+"
    finally:
        con.close()


def test_loads_leave_the_memory_limit_as_they_found_it(tmp_path):
    con = connect(tmp_path / "kb.duckdb")
    try:
        con.execute("SET memory_limit = '1500MB'")
        shown = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        for i in range(3):  # (restoring the rounded value shown once lowered it every time)
            load_records(con, [CaptureRecord.from_article(make_article(900000 + i),
                                                          input=f"r{i}")])
            assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == shown
    finally:
        con.close()


def test_ids_not_made_by_capture_key_are_kept_whole_while_loading(tmp_path):
    base = CaptureRecord.from_article(make_article(), input="a")
    variants = [base]
    for i, cid in enumerate((base.capture_id.upper(), base.capture_id[:32] + "-custom")):
        rec = CaptureRecord.from_article(make_article(), input=f"v{i}")
        rec.capture_id = cid
        variants.append(rec)
    report = load_into(tmp_path / "kb.duckdb", variants)
    assert (report.articles, report.already_loaded) == (3, 0)


@pytest.mark.parametrize(("batch_size", "rebuilt"), [(100, False), (3, True)])
def test_indexes_are_rebuilt_only_for_a_load_of_several_batches(tmp_path, monkeypatch,
                                                               batch_size, rebuilt):
    dropped = []
    real_drop = store._drop_indexes
    monkeypatch.setattr(store, "_drop_indexes", lambda con: (dropped.append(1), real_drop(con)))
    db = tmp_path / "kb.duckdb"
    con = connect(db)
    try:
        load_records(con, corpus(), batch_size=batch_size)
        indexes = {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    finally:
        con.close()
    assert bool(dropped) is rebuilt
    assert indexes == set(INDEX_NAMES)
    load_into(tmp_path / "reference.duckdb", corpus())
    assert all_tables(db) == all_tables(tmp_path / "reference.duckdb")


def test_reparse_replaces_rows_of_an_older_parser_version(tmp_path, monkeypatch):
    pages = tmp_path / "pages"
    pages.mkdir()
    for i, kb in enumerate((111111, 222222)):
        (pages / f"kb{kb}.txt").write_text(PAGE_TEMPLATE.format(kb=kb, n=i), encoding="utf-8")
    db = tmp_path / "kb.duckdb"
    monkeypatch.setattr(store, "_parser_version", lambda: "0-old")
    store.load([pages], db)
    before = all_tables(db)
    monkeypatch.setattr(store, "_parser_version", lambda: "1-new")
    plain = store.load([pages], db)
    assert plain.parsed == 0 and plain.other_parser_versions == 2
    report = store.load([pages], db, reparse=True)
    assert report.parsed == 2 and report.other_parser_versions == 0
    after = all_tables(db)
    assert {r[-1] for r in after["captures"]} == {"1-new"}
    for table in DATA_TABLES[1:]:
        assert len(after[table]) == len(before[table]), table


def test_a_missing_or_unreadable_input_is_reported_and_the_load_goes_on(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "kb111111.txt").write_text(PAGE_TEMPLATE.format(kb=111111, n=0), encoding="utf-8")
    (pages / "broken.warc.gz").write_bytes(b"\x1f\x8bnot a warc")
    report = store.load([pages, tmp_path / "nowhere"], tmp_path / "kb.duckdb")
    assert report.loaded == 1
    assert {name for name, _ in report.errors} == {str(pages / "broken.warc.gz"),
                                                   str(tmp_path / "nowhere")}


# --------------------------------------------------------------------------- one writer


def test_a_second_writer_gets_a_clear_database_in_use_message(tmp_path):
    db = tmp_path / "kb.duckdb"
    connect(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(db)!r})
            print("open", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(DatabaseInUseError) as err:
            connect(db)
        assert "database is in use" in str(err.value)
        result = CliRunner().invoke(cli, ["load", str(tmp_path), "--db", str(db),
                                          "--no-progress"])
        assert result.exit_code == 1
        assert "database is in use" in result.output
        assert f"PID {holder.pid}" in result.output
    finally:
        holder.kill()
        holder.wait()


def test_a_second_writer_in_the_same_process_is_told_the_database_is_in_use(tmp_path):
    first = connect(tmp_path / "kb.duckdb")
    try:
        with pytest.raises(DatabaseInUseError, match=r"database is in use: .*this process"):
            connect(tmp_path / "kb.duckdb")
    finally:
        first.close()


def test_reading_a_database_that_does_not_exist_says_what_to_run(tmp_path):
    with pytest.raises(DatabaseNotFoundError, match="kbharvest build"):
        stats(tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()


# --------------------------------------------------------------------------- commands


def test_query_is_read_only_and_shows_duckdbs_message(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus())
    runner = CliRunner()
    ok = runner.invoke(cli, ["query", "SELECT kb_id, title FROM latest_articles "
                             "ORDER BY kb_id LIMIT 1", "--db", str(db), "--format", "csv"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0] == "kb_id,title"
    assert ok.output.splitlines()[1].startswith("977153,")
    write = runner.invoke(cli, ["query", "DELETE FROM captures", "--db", str(db)])
    assert write.exit_code == 1
    assert "read-only" in write.output and "Traceback" not in write.output
    bad = runner.invoke(cli, ["query", "SELEC 1", "--db", str(db)])
    assert bad.exit_code == 1 and "syntax error" in bad.output
    assert len(all_tables(db)["captures"]) == 8


def test_query_prints_json(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus())
    out = CliRunner().invoke(cli, ["query", "SELECT kb_id, date, version_key FROM file_rows "
                                   "ORDER BY version_key LIMIT 1", "--db", str(db),
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == [{"kb_id": 977153, "date": "2009-11-02",
                                       "version_key": [6, 0, 6002, 9999]}]


def test_show_renders_the_article_with_files_and_provenance(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus())
    view = get_article(977153, db)
    assert view.article.revision == "2.0" and len(view.history) == 3
    assert view.languages == ["de-de", "en-us"]
    out = CliRunner().invoke(cli, ["show", "977153", "--db", str(db)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    for text in ("Stop error 0xD6", "SYMPTOMS", "Volsnap.sys", "6.0.6002.22400",
                 "Restart: required", "KB935791", "web.archive.org/web/20120301000000",
                 "3 captures", "de-de"):
        assert text in out.output, text
    missing = CliRunner().invoke(cli, ["show", "977153", "--lang", "ja-jp", "--db", str(db)])
    assert missing.exit_code == 1 and "languages loaded: de-de, en-us" in missing.output


def test_stats_counts_templates_languages_years_and_reasons(tmp_path):
    db = tmp_path / "kb.duckdb"
    load_into(db, corpus())
    out = CliRunner().invoke(cli, ["stats", "--db", str(db)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    for text in ("kb-classic", "de-de", "2012", "sign-in page", "search index"):
        assert text in out.output, text


@pytest.mark.parametrize("command", ["load", "build", "query", "search", "show", "stats"])
def test_every_database_command_has_help_with_an_example(command):
    out = CliRunner().invoke(cli, [command, "--help"])
    assert out.exit_code == 0
    assert "Example:" in out.output and f"kbharvest {command}" in out.output


# --------------------------------------------------------------------------- end to end

PAGE_TEMPLATE = """\
Article ID: {kb}
Last Review: March {n}, 2010
Revision: 1.{n}

FIX: The Zephyr indexing service stops responding when a catalog holds {n} million items

SYMPTOMS
The Zephyr indexing service stops responding when a catalog holds more than {n} million
items. Searches time out.

CAUSE
The service keeps a lock on the catalog while it merges shadow indexes.

RESOLUTION
A supported hotfix is available from Microsoft.

Restart requirement
You must restart the computer after you apply this hotfix.

APPLIES TO
Zephyr Index Server 2008

Keywords: kbfix kbqfe
"""


def test_end_to_end_parse_and_load_a_folder_of_pages(tmp_path):
    """Real parser, real files: whatever the parser makes of them, load keeps every input."""
    from kbharvest.parse import parse_paths

    pages = tmp_path / "pages"
    pages.mkdir()
    for i, kb in enumerate((311111, 322222, 333333)):
        (pages / f"kb{kb}.txt").write_text(PAGE_TEMPLATE.format(kb=kb, n=i + 1),
                                           encoding="utf-8")
    (pages / "notfound.html").write_text(
        "<html><head><title>Page not found</title></head><body><h1>404 - Page not found"
        "</h1><p>The page you requested cannot be found.</p></body></html>", encoding="utf-8")
    (pages / "empty.html").write_bytes(b"")
    expected = {r.input: r for r in parse_paths([pages])}
    db = tmp_path / "kb.duckdb"
    result = CliRunner().invoke(cli, ["load", str(pages), "--db", str(db), "--no-progress"])
    assert result.exit_code == 0, result.output
    con = connect(db, read_only=True)
    try:
        rows = dict(con.execute("SELECT input, capture_id FROM captures").fetchall())
        assert set(rows) == set(expected)
        for name, res in expected.items():
            if res.kind == "article":
                assert article_from_db(con, rows[name]) == res.article
            else:
                reason = con.execute("SELECT rejection_reason FROM captures WHERE input = ?",
                                     [name]).fetchone()[0]
                assert reason == res.rejection.error
    finally:
        con.close()
    kinds = [r.kind for r in expected.values()]
    assert kinds.count("rejection") >= 2  # the 404 page and the empty file


def test_parallel_load_gives_the_same_tables_as_a_serial_one(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(12):
        (pages / f"kb{400000 + i}.txt").write_text(PAGE_TEMPLATE.format(kb=400000 + i, n=i),
                                                   encoding="utf-8")
    store.load([pages], tmp_path / "serial.duckdb", jobs=1)
    t0 = time.monotonic()
    store.load([pages], tmp_path / "parallel.duckdb", jobs=2)
    assert time.monotonic() - t0 < 60
    assert all_tables(tmp_path / "serial.duckdb") == all_tables(tmp_path / "parallel.duckdb")
