"""Dataset releases against a real DuckDB file loaded by the store: round trip, reproducibility,
verification, changelog and the command line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kbharvest import release as rel
from kbharvest.cli import cli
from kbharvest.errors import ReleaseExistsError, ReleaseVerificationError
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
from kbharvest.release_verify import verify
from kbharvest.store import CaptureRecord, capture_key, connect, load_records, table_rows
from kbharvest.store_read import article_from_db
from kbharvest.store_schema import DATA_TABLES

CREATED = "2026-11-25T12:00:00Z"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


# --------------------------------------------------------------------------- made-up records


def article(kb_id: int, *, ts: str | None = "20100115120000", language: str | None = "en-us",
            template: str = "kb-classic", year: int = 2009, revision: str = "1.0",
            symptoms: str | None = "The Quokka print queue stops when a job is paused.",
            files: int = 2, replaces: list[int] | None = None, rows_missing: bool = True,
            title: str | None = None, triple: bool = True) -> Article:
    """A made-up hotfix article with every part of the record filled in."""
    rows = [FileRow(file_name=f"Quokka{i}.dll", file_version=f"6.1.7601.{17000 + i}",
                    file_size=10_000 + i, date=dt.date(year, 3, 1 + i % 28), time=f"10:{i % 60:02d}",
                    platform="x86", extra={"SP requirement": "SP1", "Service branch": "GDR",
                                           "Folder": "C:\\Quokka"})
            for i in range(files)]
    return Article(
        kb_id=kb_id, title=title or f"FIX: The Quokka spooler stops (KB{kb_id})",
        language=language, last_review=dt.date(year, 12, 8), revision=revision,
        template=template,
        sections=[
            Section(kind="symptoms", level=1, heading="SYMPTOMS", text=symptoms or ""),
            Section(kind="cause", level=1, heading="CAUSE", text="A lock is held too long."),
            Section(kind="resolution", level=1, heading="RESOLUTION", text="Apply the fix."),
            Section(kind="prerequisites", level=2, heading="Prerequisites",
                    text="Quokka Server 2008 SP1 (KB935791)."),
        ],
        symptoms=symptoms if triple else None,
        cause="A lock is held too long." if triple else None,
        resolution="Apply the fix.\nPrerequisites\nQuokka Server 2008 SP1 (KB935791)."
        if triple else None,
        prerequisites=Prerequisites(text="Quokka Server 2008 SP1 (KB935791).",
                                    requirements=["Quokka Server 2008 SP1"], kb_refs=[935791]),
        restart=Restart(requirement="may_be_required", text="You may have to restart."),
        replacement=Replacement(replaces=replaces or [], text="Replaces earlier fixes.")
        if replaces is not None else None,
        file_tables=[FileTable(caption="x86 files", architecture="x86", rows=rows),
                     *([FileTable(caption="x64 files", architecture="x64", rows_missing=True)]
                       if rows_missing else [])],
        kb_refs=sorted({935791, kb_id + 1}),
        applies_to=["Quokka Server 2008", "Quokka Desktop 7"],
        keywords=["kbfix", "kbqfe"],
        source=Source(url=f"http://support.microsoft.com/kb/{kb_id}/{language or 'en-us'}",
                      timestamp=ts, archive="web.archive.org", digest=f"DIGEST{kb_id}{ts}")
        if ts else None,
        warnings=["a paragraph could not be placed"] if kb_id % 2 else [],
    )


def rejected(name: str, reason: str = "page not found (soft 404)") -> CaptureRecord:
    sha = capture_key(name, name, None)
    return CaptureRecord(capture_id=capture_key(sha, f"http://x/{name}", None), input=name,
                         sha256=sha, parser_version="1", rejection_reason=reason,
                         url=f"http://x/{name}", http_status=200)


def records_v1() -> list[CaptureRecord]:
    arts = [
        article(111111, ts="20080101000000", year=2007),
        article(111111, ts="20100101000000", year=2009, revision="2.0", replaces=[99999]),
        article(111111, ts="20100301000000", language="de-de", template="kb-2010"),
        article(222222, ts="20120101000000", template="kb-2010", year=2011, files=0,
                rows_missing=False, replaces=[]),
        article(333333, ts="20150101000000", template="help", year=2014, triple=False),
        article(444444, ts=None, language=None, template="ftp-txt", year=2001, files=3),
        article(555555, ts="20050505050505", template="kb-classic", year=2004,
                title="Quokka | pipes | in a title"),
    ]
    return [CaptureRecord.from_article(a, input=f"snap{i}.warc.gz#rec{i}", parser_version="1")
            for i, a in enumerate(arts)] + [rejected("gone"), rejected("login", "sign-in page")]


def build_db(path: Path, records: list[CaptureRecord]) -> Path:
    con = connect(path)
    try:
        load_records(con, records, batch_size=4)
    finally:
        con.close()
    return path


def make_release(db: Path, out: Path, version: str = "2026.11.0", **kw) -> rel.ReleaseReport:
    kw.setdefault("created", CREATED)
    kw.setdefault("commit", COMMIT)
    kw.setdefault("shard_bytes", 1024)  # small: several shards per big table
    kw.setdefault("row_group_rows", 2)
    return rel.release(version, db, out, **kw)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple[Path, Path]:
    """(database, release folder) built once for the read-only tests of this module."""
    root = tmp_path_factory.mktemp("release")
    db = build_db(root / "kb.duckdb", records_v1())
    report = make_release(db, root / "out")
    return db, report.path


def copy_release(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# --------------------------------------------------------------------------- layout


def test_release_writes_every_table_sharded_with_the_documented_names(released):
    _, path = released
    manifest = json.loads((path / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(rel.TABLE_NAMES) == {*DATA_TABLES, "triples"}
    for name, info in manifest["tables"].items():
        n = len(info["files"])
        assert info["files"] == [f"data/{name}/{name}-{i:05d}-of-{n:05d}.parquet"
                                 for i in range(n)]
    for name in ("articles.jsonl.gz", "schema/article.schema.json", "schema/kb.sql",
                 "schema/tables.sql", "README.md", "croissant.json", "datapackage.json",
                 "SHA256SUMS", "CHANGELOG.md"):
        assert (path / name).is_file(), name
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "no temp folder"


def test_every_parquet_file_carries_release_and_schema_versions(released):
    _, path = released
    con = duckdb.connect()
    kv = con.execute("SELECT decode(key), decode(value), count(DISTINCT file_name) FROM "
                     f"parquet_kv_metadata('{path}/data/*/*.parquet') GROUP BY 1, 2").fetchall()
    files = len(list(path.glob("data/*/*.parquet")))
    assert ("release_version", "2026.11.0", files) in kv
    assert ("schema_version", "1", files) in kv


# --------------------------------------------------------------------------- round trip


def _released_table(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """Load one released table into ``con`` under its database name and shape."""
    files = f"read_parquet('{path}/data/{table}/*.parquet')"
    drop = ["source_url", "source_timestamp", "source_digest"]
    if table != "captures":
        drop.append("parser_version")
    if table == "articles":
        drop.append("is_latest")
    select = f"* EXCLUDE ({', '.join(drop)})"
    if table == "file_rows":
        select += " REPLACE (map_from_entries(extra) AS extra)"
    con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {files}")


def test_round_trip_every_table_loads_back_equal_to_the_database(released):
    db, path = released
    src = duckdb.connect(str(db), read_only=True)
    fresh = duckdb.connect()
    try:
        for table in DATA_TABLES:
            _released_table(fresh, path, table)
            assert [r[:2] for r in fresh.execute(f"DESCRIBE {table}").fetchall()] == [
                r[:2] for r in src.execute(f"DESCRIBE {table}").fetchall()], table
            assert table_rows(fresh, table) == table_rows(src, table), table
        triples = src.execute("SELECT kb_id, language, title, symptoms, cause, resolution, "
                              "capture_id, url, served_ts FROM triples ORDER BY ALL").fetchall()
        assert fresh.execute(
            "SELECT kb_id, language, title, symptoms, cause, resolution, capture_id, "
            f"source_url, source_timestamp FROM read_parquet('{path}/data/triples/*.parquet') "
            "ORDER BY ALL").fetchall() == triples
        assert len(triples) == 5  # KB333333 has none of symptoms, cause, resolution
    finally:
        src.close()
        fresh.close()


def test_every_row_carries_the_provenance_of_its_capture(released):
    _, path = released
    con = duckdb.connect()
    caps = f"read_parquet('{path}/data/captures/*.parquet')"
    for table in rel.TABLE_NAMES:
        bad = con.execute(
            f"SELECT count(*) FROM read_parquet('{path}/data/{table}/*.parquet') t "
            f"JOIN {caps} c USING (capture_id) WHERE t.source_url IS DISTINCT FROM c.url "
            "OR t.source_timestamp IS DISTINCT FROM c.served_ts "
            "OR t.source_digest IS DISTINCT FROM c.digest "
            "OR t.parser_version IS DISTINCT FROM c.parser_version").fetchone()[0]
        orphans = con.execute(
            f"SELECT count(*) FROM read_parquet('{path}/data/{table}/*.parquet') t "
            f"ANTI JOIN {caps} c USING (capture_id)").fetchone()[0]
        assert (bad, orphans) == (0, 0), table


def test_articles_jsonl_holds_the_latest_record_per_kb_id_and_language_as_the_store_rebuilds_it(
        released):
    import gzip

    db, path = released
    with gzip.open(path / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    con = connect(db, read_only=True)
    try:
        latest = con.execute("SELECT capture_id FROM latest_articles "
                             "ORDER BY kb_id, language NULLS FIRST, capture_id").fetchall()
        expected = [article_from_db(con, c).model_dump_json() for (c,) in latest]
    finally:
        con.close()
    assert lines == expected
    assert [json.loads(line)["kb_id"] for line in lines] == [111111, 111111, 222222, 333333,
                                                            444444, 555555]
    raw = (path / "articles.jsonl.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0" and not raw[3] & 0x08, "gzip: mtime 0, no file name"


# --------------------------------------------------------------------------- reproducible


def test_two_releases_of_the_same_database_are_byte_identical(released, tmp_path):
    db, first = released
    second = make_release(db, tmp_path / "again").path
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix()
                           for p in second.rglob("*") if p.is_file())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_created_is_written_only_into_the_manifest(released, tmp_path):
    db, _ = released
    path = make_release(db, tmp_path, created="2031-02-03T04:05:06Z").path
    holders = [p.name for p in path.rglob("*") if p.is_file() and b"2031-02-03" in p.read_bytes()]
    assert holders == ["manifest.json"]


def test_created_comes_from_source_date_epoch_when_not_given():
    assert rel.resolve_created(None, {"SOURCE_DATE_EPOCH": "1700000000"}) == "2023-11-14T22:13:20Z"
    assert rel.resolve_created("2026-11-25", {}) == "2026-11-25T00:00:00Z"


# --------------------------------------------------------------------------- verify


def test_verify_accepts_a_fresh_release(released):
    report = verify(released[1])
    assert report.version == "2026.11.0" and report.records == 6
    assert report.rows["captures"] == 9


def test_verify_names_a_parquet_file_with_a_flipped_byte(released, tmp_path):
    path = copy_release(released[1], tmp_path / "r")
    victim = path / json.loads((path / "manifest.json").read_text())["tables"]["file_rows"][
        "files"][0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(ReleaseVerificationError) as err:
        verify(path)
    name = victim.relative_to(path).as_posix()
    assert any(p.startswith(f"{name}: checksum mismatch") for p in err.value.problems)


def test_verify_names_a_missing_file(released, tmp_path):
    path = copy_release(released[1], tmp_path / "r")
    (path / "data/sections/sections-00000-of-0000{}.parquet".format(
        len(list((path / "data/sections").iterdir())))).unlink()
    (path / "schema/kb.sql").unlink()
    with pytest.raises(ReleaseVerificationError) as err:
        verify(path)
    text = str(err.value)
    assert "data/sections/sections-00000-of-" in text and "missing file" in text
    assert "schema/kb.sql: missing file" in text


def _rewrite_manifest(path: Path, change) -> None:
    """Change manifest.json and refresh its checksum, as a careless hand edit would."""
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    rel.write_json(path / "manifest.json", manifest)
    sums = [line if not line.endswith("  manifest.json")
            else f"{rel.sha256_file(path / 'manifest.json')}  manifest.json"
            for line in (path / "SHA256SUMS").read_text().splitlines()]
    (path / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def test_verify_catches_a_wrong_row_count(released, tmp_path):
    path = copy_release(released[1], tmp_path / "r")
    _rewrite_manifest(path, lambda m: m["tables"]["kb_refs"].update(rows=999))
    with pytest.raises(ReleaseVerificationError) as err:
        verify(path)
    assert err.value.problems == ["data/kb_refs/: 14 rows, manifest.json says 999"]


def test_verify_catches_card_numbers_that_disagree_with_the_data(released, tmp_path):
    path = copy_release(released[1], tmp_path / "r")
    card = path / "README.md"
    card.write_text(card.read_text().replace("num_examples: 14", "num_examples: 15", 1))
    (path / "SHA256SUMS").write_text("".join(
        f"{rel.sha256_file(path / n)}  {n}\n" if n == "README.md" else line + "\n"
        for line in (path / "SHA256SUMS").read_text().splitlines()
        for n in [line.split("  ", 1)[1]]))
    with pytest.raises(ReleaseVerificationError) as err:
        verify(path)
    assert any("README.md: kb_refs has 15 examples" in p for p in err.value.problems)


def test_verify_names_an_unlisted_file(released, tmp_path):
    path = copy_release(released[1], tmp_path / "r")
    (path / "data/articles/extra.parquet").write_bytes(b"PAR1")
    with pytest.raises(ReleaseVerificationError, match=r"extra\.parquet: unlisted file"):
        verify(path)


# --------------------------------------------------------------------------- complete or absent


def test_a_release_that_fails_midway_leaves_nothing_behind(tmp_path, monkeypatch):
    db = build_db(tmp_path / "kb.duckdb", records_v1()[:3])
    import kbharvest.release_card as card

    def boom(manifest):
        raise RuntimeError("disk full")

    monkeypatch.setattr(card, "render_card", boom)
    with pytest.raises(RuntimeError):
        make_release(db, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_an_existing_release_is_never_overwritten(released):
    db, path = released
    with pytest.raises(ReleaseExistsError):
        make_release(db, path.parent)


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize("command", ["release", "verify"])
def test_release_commands_have_help_with_an_example(command):
    out = CliRunner().invoke(cli, [command, "--help"])
    assert out.exit_code == 0
    assert "Example:" in out.output and f"kbharvest {command}" in out.output


def test_cli_release_then_verify(released, tmp_path):
    db, _ = released
    runner = CliRunner()
    made = runner.invoke(cli, ["release", "--version", "0.1", "--db", str(db), "--out",
                               str(tmp_path), "--created", CREATED, "--no-progress"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "kbharvest-0.1" / "manifest.json").is_file()
    ok = runner.invoke(cli, ["verify", str(tmp_path / "kbharvest-0.1")])
    assert ok.exit_code == 0 and "ok" in ok.output
    (tmp_path / "kbharvest-0.1" / "croissant.json").unlink()
    bad = runner.invoke(cli, ["verify", str(tmp_path / "kbharvest-0.1")])
    assert bad.exit_code == 1 and "croissant.json: missing file" in bad.output
    again = runner.invoke(cli, ["release", "--version", "0.1", "--db", str(db), "--out",
                                str(tmp_path), "--no-progress"])
    assert again.exit_code == 1 and "already exists" in again.output


# --------------------------------------------------------------------------- changelog


def test_changelog_lists_kb_ids_added_removed_and_changed_since_the_previous_release(tmp_path):
    out = tmp_path / "datasets"
    first = records_v1()
    make_release(build_db(tmp_path / "a.duckdb", first), out, version="2026.9.0")
    # next load: KB555555 gone, KB222222 re-captured with new text, KB666666 new,
    # KB444444 re-captured with the same content (provenance differs only: not "changed")
    second = [r for r in first
              if "555555" not in (r.url or "") and r.input != "snap3.warc.gz#rec3"]
    second += [CaptureRecord.from_article(a, input=f"new{i}", parser_version="1") for i, a in
               enumerate([article(222222, ts="20130101000000", template="kb-2010", year=2011,
                                  files=0, rows_missing=False, replaces=[],
                                  symptoms="Now the queue also stops when it is resumed."),
                          article(666666, ts="20160101000000")])]
    report = make_release(build_db(tmp_path / "b.duckdb", second), out, version="2026.10.0")
    assert report.previous == "2026.9.0"
    assert report.changes == {"added": [666666], "removed": [555555], "changed": [222222]}
    log = (report.path / "CHANGELOG.md").read_text()
    assert log.startswith("# Changelog\n\n## 2026.10.0\n")
    assert "Compared with kbharvest-2026.9.0: 1 KB ids added, 1 removed, 1 changed" in log
    assert "### Added (1)\n\nKB666666\n" in log and "### Removed (1)\n\nKB555555\n" in log
    assert "### Changed (1)\n\nKB222222\n" in log
    assert "\n## 2026.9.0\n\nFirst release: 5 KB ids, 6 articles" in log, "the earlier entries follow"
    prev = json.loads((report.path / "manifest.json").read_text())["previous_release"]
    assert prev == {"version": "2026.9.0", "path": "kbharvest-2026.9.0", "added": 1,
                    "removed": 1, "changed": 1}
    verify(report.path)


def test_previous_release_is_the_highest_lower_version_compared_as_numbers(tmp_path):
    for v in ("2026.9.0", "2026.10.0", "2026.12.0"):
        (tmp_path / f"kbharvest-{v}").mkdir()
        (tmp_path / f"kbharvest-{v}" / "manifest.json").write_text(json.dumps({"version": v}))
    assert rel.find_previous_release(tmp_path, "2026.11.0").name == "kbharvest-2026.10.0"
    assert rel.find_previous_release(tmp_path, "2026.9.0") is None


def test_a_temporary_folder_left_by_a_killed_release_is_cleared(tmp_path):
    db = build_db(tmp_path / "kb.duckdb", records_v1()[:2])
    out = tmp_path / "out"
    stale = out / ".kbharvest-1.0.tmp-999999999"  # no such process
    (stale / "data").mkdir(parents=True)
    make_release(db, out, version="1.0")
    assert sorted(p.name for p in out.iterdir()) == ["kbharvest-1.0"]


def test_big_tables_are_sharded_at_the_size_limit_in_kb_id_order(tmp_path):
    # DuckDB cuts files between row groups of at least 2,048 rows: 6,000 file rows are enough
    records = [*records_v1(), CaptureRecord.from_article(article(100001, files=6000),
                                                        input="big", parser_version="1")]
    db = build_db(tmp_path / "kb.duckdb", records)
    path = make_release(db, tmp_path / "out", shard_bytes=10_000, row_group_rows=100_000).path
    files = json.loads((path / "manifest.json").read_text())["tables"]["file_rows"]["files"]
    assert len(files) > 1, "a 100,000-row group is split so that the shards fit the limit"
    assert all((path / f).stat().st_size < 2 * 10_000 for f in files)
    con = duckdb.connect()
    rows = con.execute(f"SELECT kb_id, source_timestamp, capture_id, table_no, row_no FROM "
                       f"read_parquet({files!r})".replace("'data/", f"'{path}/data/")).fetchall()
    assert len(rows) == 6000 + 13  # and the 13 of records_v1
    assert rows == sorted(rows, key=lambda r: (r[0], r[1] or "", r[2], r[3], r[4]))
    verify(path)


@pytest.mark.parametrize(("version", "created"), [("../escape", None), ("", None),
                                                  ("1.0", "yesterday")])
def test_a_bad_version_or_created_is_refused_before_anything_is_written(tmp_path, version,
                                                                         created):
    from kbharvest.errors import ReleaseError

    with pytest.raises(ReleaseError):
        rel.release(version, tmp_path / "none.duckdb", tmp_path / "out", created=created)
    assert not (tmp_path / "out").exists()


def test_an_unreadable_previous_release_stops_the_release_with_a_clear_message(tmp_path):
    from kbharvest.errors import ReleaseError

    db = build_db(tmp_path / "kb.duckdb", records_v1()[:2])
    out = tmp_path / "out"
    make_release(db, out, version="1.0")
    (out / "kbharvest-1.0" / "articles.jsonl.gz").write_bytes(b"\x1f\x8bnot gzip")
    with pytest.raises(ReleaseError, match=r"previous release .*kbharvest-1\.0 cannot be read"):
        make_release(db, out, version="2.0")
    assert sorted(p.name for p in out.iterdir()) == ["kbharvest-1.0"]
