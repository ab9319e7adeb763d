"""The shipped sample WARC: reproducible, and `kbharvest build` loads it with its provenance."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from kbharvest.cli import cli
from kbharvest.sample import OUT, build_sample

ROOT = Path(__file__).resolve().parents[1]


def test_the_sample_generator_is_byte_for_byte_reproducible(tmp_path):
    n = build_sample(tmp_path / "a.warc.gz")
    build_sample(tmp_path / "b.warc.gz")
    assert n >= 20
    assert (tmp_path / "a.warc.gz").read_bytes() == (tmp_path / "b.warc.gz").read_bytes()


def test_the_shipped_sample_is_what_the_golden_pages_generate(tmp_path):
    build_sample(tmp_path / "now.warc.gz")
    assert (tmp_path / "now.warc.gz").read_bytes() == OUT.read_bytes(), (
        "snapshots/kbharvest-sample.warc.gz is stale: run `python -m kbharvest.sample`")


def test_build_loads_the_shipped_sample_with_provenance_revisions_and_rejections(
        tmp_path, monkeypatch):
    assert OUT == ROOT / "snapshots" / "kbharvest-sample.warc.gz" and OUT.exists()
    shutil.copytree(ROOT / "snapshots", tmp_path / "snapshots")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build", "--no-progress"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "search index" in result.output and "ready" in result.output
    con = duckdb.connect(str(tmp_path / "datasets" / "kb.duckdb"), read_only=True)
    try:
        missing = con.execute("SELECT count(*) FROM captures WHERE requested_ts IS NULL "
                              "OR served_ts IS NULL OR archive IS NULL OR digest IS NULL"
                              ).fetchone()[0]
        assert missing == 0
        revisions = con.execute("SELECT count(DISTINCT revision) FROM article_history "
                                "WHERE kb_id = 979612").fetchone()[0]
        assert revisions >= 3
        statuses = {r[0] for r in con.execute(
            "SELECT rejection_reason FROM captures WHERE outcome = 'rejected'").fetchall()}
        assert {"archived HTTP status 404", "archived HTTP status 302"} <= statuses
        languages = con.execute("SELECT count(DISTINCT language) FROM articles").fetchone()[0]
        assert languages >= 4
        templates = con.execute("SELECT count(DISTINCT template) FROM articles").fetchone()[0]
        assert templates >= 6
    finally:
        con.close()
    again = CliRunner().invoke(cli, ["load", "--no-progress"])
    assert again.exit_code == 0 and "0 parsed" in again.output
