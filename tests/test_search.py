"""Full-text search: the fts extension loads offline, BM25 ranks, snippets, ILIKE fallback."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner
from test_store import corpus, load_into, make_article

from kbharvest import search as search_mod
from kbharvest.cli import cli
from kbharvest.search import fts_extension_path, load_fts, make_snippet, search
from kbharvest.store import CaptureRecord, connect


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "kb.duckdb"
    backup = make_article(
        3000001, ts="20140101000000", title="Backup fails on a mirrored volume",
        symptoms="The backup agent fails when a mirrored volume is resynchronising. "
                 "No snapshot is taken.")
    records = [*corpus(), CaptureRecord.from_article(backup, input="extra")]
    load_into(path, records)
    return path


def test_the_fts_extension_loads_from_the_pypi_package_without_network():
    path = fts_extension_path()
    assert path is not None and path.name == "fts.duckdb_extension"
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    assert load_fts(con) is None
    assert con.execute("SELECT stem('snapshots', 'porter')").fetchone()[0] == "snapshot"


def test_search_ranks_the_article_about_the_words_first(db):
    result = search("stop 0xD6 snapshot", db, limit=5)
    assert result.mode == "bm25" and result.note is None
    assert result.hits[0].kb_id == 977153
    assert {h.kb_id for h in result.hits} >= {977153, 3000001}
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    spooler = search("print spooler memory", db, limit=5)
    assert spooler.hits[0].kb_id == 2598133


def test_search_finds_each_language_of_an_article_once(db):
    hits = search("snapshot", db, limit=10).hits
    pairs = [(h.kb_id, h.language) for h in hits]
    assert len(pairs) == len(set(pairs))
    assert (977153, "de-de") in pairs and (977153, "en-us") in pairs


def test_search_snippets_highlight_the_matched_words(db):
    hit = search("snapshot", db, limit=1).hits[0]
    assert hit.highlights
    for start, end in hit.highlights:
        assert hit.snippet[start:end].lower().startswith("snapshot")


def test_make_snippet_centres_on_the_densest_matches():
    body = "intro " * 100 + "the volume snapshot driver stops with a snapshot error " + "x " * 100
    snippet, spans = make_snippet(body, ["snapshot", "driver"], width=80)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert [snippet[s:e] for s, e in spans] == ["snapshot", "driver", "snapshot"]


def test_search_falls_back_to_ilike_with_a_clear_message(db, monkeypatch):
    monkeypatch.setattr(search_mod, "fts_extension_path", lambda: None)
    result = search("print spooler", db)
    assert result.mode == "ilike"
    assert "fts extension is not installed" in result.note and "ILIKE" in result.note
    assert result.hits[0].kb_id == 2598133


def test_a_database_loaded_without_fts_is_still_searchable(tmp_path, monkeypatch):
    monkeypatch.setattr(search_mod, "fts_extension_path", lambda: None)
    path = tmp_path / "kb.duckdb"
    load_into(path, corpus())
    result = search("kernel vulnerability", path)
    assert result.mode == "ilike" and result.hits[0].kb_id == 4487012


def test_a_stale_index_falls_back_instead_of_showing_old_results(db):
    con = connect(db)
    con.execute("UPDATE kb_meta SET value = 'stale' WHERE key = 'search_index'")
    con.close()
    result = search("print spooler", db)
    assert result.mode == "ilike" and "out of date" in result.note
    assert result.hits[0].kb_id == 2598133


def test_search_command_prints_ranked_hits(db):
    out = CliRunner().invoke(cli, ["search", "stop 0xD6 snapshot", "--db", str(db), "-n", "2"],
                             env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert out.output.lstrip().startswith("1. KB977153")
    assert " 2. KB" in out.output and " 3. KB" not in out.output


def test_search_with_no_words_returns_nothing(db):
    assert search("  !!  ", db).hits == []
