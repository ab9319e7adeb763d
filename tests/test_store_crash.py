"""A load killed with -9 at any point loses at most its open batch; the rerun completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from test_store import all_tables

from kbharvest.search import search
from kbharvest.store_read import stats
from kbharvest.store_schema import INDEX_NAMES

TESTS = Path(__file__).resolve().parent

# The loader as its own process: 40 articles, 5 per transaction. HOOK decides where it stops
# and waits to be killed: just before the 3rd commit (inside an open transaction with its
# rows written), between two batches, or in the middle of building the search index.
DRIVER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from kbharvest import search, store
    from test_store import make_article
    db, hook = sys.argv[1], sys.argv[2]
    records = [store.CaptureRecord.from_article(
        make_article(500000 + i, ts=f"2010{{1 + i % 12:02d}}01000000"), input=f"r{{i}}")
        for i in range(40)]
    commits = 0
    real_commit, real_load_fts = store._commit, search.load_fts
    def commit(con):
        global commits
        commits += 1
        if hook == "before-commit" and commits == 3:
            print("STOPPED", flush=True); time.sleep(600)
        real_commit(con)
        if hook == "after-commit" and commits == 3:
            print("STOPPED", flush=True); time.sleep(600)
        if hook == "timed":
            print("COMMITTED", flush=True); time.sleep(0.05)
    def load_fts(con):
        if hook == "index":
            print("STOPPED", flush=True); time.sleep(600)
        return real_load_fts(con)
    store._commit, search.load_fts = commit, load_fts
    con = store.connect(db)
    store.load_records(con, records, batch_size=5)
    search.ensure_index(con)
    con.close()
    print("DONE", flush=True)
""").format(tests=str(TESTS))


def run_driver(db: Path, hook: str, script: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), str(db), hook],
                            stdout=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("clean")
    script = tmp / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    proc = run_driver(tmp / "clean.duckdb", "none", script)
    assert proc.communicate(timeout=120)[0].strip().endswith("DONE")
    return tmp / "clean.duckdb"


@pytest.mark.parametrize(("hook", "committed"), [("before-commit", 10), ("after-commit", 15),
                                                 ("index", 40), ("timed", None)])
def test_a_load_killed_with_sigkill_reruns_to_the_same_tables_as_a_clean_load(
        tmp_path, clean_db, hook, committed):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    db = tmp_path / "kb.duckdb"
    proc = run_driver(db, hook, script)
    try:
        if hook == "timed":
            assert proc.stdout.readline().strip() == "COMMITTED"
            time.sleep(0.12)  # lands somewhere inside a later batch
        else:
            assert proc.stdout.readline().strip() == "STOPPED"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    killed_mid_load = (tmp_path / "kb.duckdb.load").exists()

    # What survived is whole batches only (read-only opens replay the write-ahead log first).
    n = stats(db).totals["captures"]
    assert n % 5 == 0
    if committed is not None:
        assert n == committed

    rerun = run_driver(db, "none", script)
    assert rerun.communicate(timeout=120)[0].strip().endswith("DONE")
    assert all_tables(db) == all_tables(clean_db)
    # the staging files the killed load left beside the database are gone after the rerun
    assert killed_mid_load is (hook != "index")
    assert not (tmp_path / "kb.duckdb.load").exists()
    con = duckdb.connect(str(db), read_only=True)
    indexes = {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    con.close()
    assert indexes == set(INDEX_NAMES)
    assert stats(db).search_index == "ready"
    assert search("snapshot", db, limit=3).mode == "bm25"
