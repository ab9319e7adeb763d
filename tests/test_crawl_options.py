"""Discovery, languages, import of foreign WARCs, and the fetch/import commands."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from crawlkit.fakearchive import FakeArchive
from crawlkit.pages import classic_page, topic_page
from crawlkit.scenario import TOPIC, history
from crawlkit.warcs import Capture, write_warc
from rich.console import Console

from kbharvest.cli import cli
from kbharvest.crawl import ConsoleProgress, FetchOptions, fetch, import_warcs
from kbharvest.errors import InputError
from kbharvest.http import HttpConfig
from kbharvest.ledger import Ledger
from kbharvest.warcstore import iter_captures

FAST = HttpConfig(cdx_per_min=60000, replay_per_min=60000, backoff_base=0.01)


def _urls(snaps) -> list[str]:
    return sorted(c.url for f in snaps.glob("*.warc.gz") for c in iter_captures(f))


def test_discover_within_a_range_finds_only_the_ids_the_archive_holds(tmp_path):
    caps = [Capture(f"http://support.microsoft.com/kb/{n}", "20100101000000",
                    classic_page(n, f"Made-up {n}", "x")) for n in (2000003, 2000077, 20000770)]
    with FakeArchive(caps, page_size=2) as fake:
        opts = FetchOptions.from_args(["2000000-2000099"], discover=True,
                                      snapshots=tmp_path / "s", archive=fake.url, fsync=False)
        fetch(opts, FAST)
        cdx_queries = len(fake.requests("cdx"))
    assert _urls(tmp_path / "s") == ["http://support.microsoft.com/kb/2000003",
                                     "http://support.microsoft.com/kb/2000077"]
    assert cdx_queries < 20  # one block prefix per URL form, not 100 ids × forms


def test_discover_ties_topic_pages_to_the_kb_id_the_page_names(tmp_path):
    caps = [Capture(TOPIC, "20220101000000", topic_page(977153, "Made-up topic", "Hello.")),
            Capture("https://support.microsoft.com/en-us/topic/not-an-article-1234", "20220101000000",
                    b"<html><title>Getting started</title><p>Nothing numbered.</p></html>")]
    with FakeArchive(caps) as fake:
        opts = FetchOptions.from_args([], discover=True, snapshots=tmp_path / "s",
                                      archive=fake.url, fsync=False)
        fetch(opts, FAST)
    with Ledger(tmp_path / "s") as ledger:
        got = {r["url"]: (r["state"], r["kb_id"], r["reason"]) for r in ledger.rows(
            "SELECT * FROM captures")}
    assert got[TOPIC] == ("fetched", 977153, None)
    assert got["https://support.microsoft.com/en-us/topic/not-an-article-1234"][0] == "rejected"


@pytest.mark.parametrize("lang, expect_de", [("en-us", False), ("all", True), ("en-us,de", True)])
def test_other_languages_are_harvested_only_when_asked_for(tmp_path, lang, expect_de):
    with FakeArchive(history()) as fake:
        opts = FetchOptions.from_args(["977153"], lang=lang, snapshots=tmp_path / "s",
                                      archive=fake.url, fsync=False)
        fetch(opts, FAST)
    assert ("http://support.microsoft.com/kb/977153/de" in _urls(tmp_path / "s")) == expect_de


@pytest.mark.parametrize("kw", [dict(ids=[]), dict(ids=["x1"]), dict(ids=["1"], lang="english"),
                                dict(ids=["1"], shard="3/2"), dict(ids=["1"], captures="some")])
def test_bad_options_are_input_errors(kw):
    with pytest.raises(InputError):
        FetchOptions.from_args(**kw)


def test_import_takes_article_captures_from_a_foreign_warc_once(tmp_path):
    warc = write_warc(tmp_path / "elsewhere.warc.gz", history())
    first = import_warcs([warc], tmp_path / "snapshots")
    again = import_warcs([warc], tmp_path / "snapshots")
    # four distinct versions of 977153 (the 2011 copy repeats 2010's payload), 9771530, and
    # the German page; redirects and soft 404s are skipped
    assert first.imported == 6 and first.duplicates == 1
    assert first.skipped == {"HTTP status 301": 2, "support home page": 4}
    assert again.imported == 0 and again.duplicates == 7


def test_fetch_and_import_have_help_with_an_example():
    runner = CliRunner()
    for cmd in ("fetch", "import"):
        result = runner.invoke(cli, [cmd, "--help"])
        assert result.exit_code == 0 and "Example" in result.output


def test_fetch_without_ids_is_one_clean_error():
    result = CliRunner().invoke(cli, ["fetch", "--no-progress"])
    assert result.exit_code == 1 and "give KB ids" in result.output


def test_the_progress_bar_shows_ids_captures_bytes_and_waits(tmp_path):
    out = io.StringIO()
    with FakeArchive(history()) as fake:
        opts = FetchOptions.from_args(["977153"], snapshots=tmp_path / "s", archive=fake.url,
                                      fsync=False)
        with ConsoleProgress(Console(file=out, width=200, force_terminal=False)) as bar:
            fetch(opts, FAST, progress=bar)
    text = out.getvalue()
    assert "captures" in text and "stored 4" in text and "MB" in text and "waited" in text


def test_a_finished_cdx_query_serves_later_runs_for_other_ids_of_its_block(tmp_path):
    snaps = tmp_path / "s"
    caps = [Capture(f"http://support.microsoft.com/kb/{n}", "20150101000000",
                    classic_page(n, f"Made-up {n}", "x")) for n in (2000001, 2000002, 2000050, 2000051)]
    with FakeArchive(caps) as fake:
        fetch(FetchOptions.from_args(["2000001-2000002"], snapshots=snaps, archive=fake.url,
                                     fsync=False), FAST)
        asked = len(fake.requests("cdx"))
        later = fetch(FetchOptions.from_args(["2000050", "2000051"], snapshots=snaps,
                                             archive=fake.url, fsync=False), FAST)
    assert len(fake.requests("cdx")) == asked == 8  # one block, eight URL forms, asked once
    assert later.fetched == 2 and later.totals["fetched"] == 4


def test_refresh_asks_the_index_again_and_fetches_only_the_new_capture(tmp_path):
    snaps = tmp_path / "s"
    with FakeArchive(history()) as fake:
        opts = FetchOptions.from_args(["977153"], snapshots=snaps, archive=fake.url, fsync=False)
        fetch(opts, FAST)
        fake.captures.append(Capture("http://support.microsoft.com/kb/977153/en-us",
                                     "20130303030303", classic_page(977153, "Made up", "New!")))
        assert fetch(opts, FAST).fetched == 0
        opts.refresh = True
        fake.log.clear()
        again = fetch(opts, FAST)
    assert again.fetched == 1 and len(fake.requests("replay")) == 1


def test_asking_for_more_languages_later_fetches_them_from_rows_already_listed(tmp_path):
    snaps = tmp_path / "s"
    with FakeArchive(history()) as fake:
        fetch(FetchOptions.from_args(["977153"], snapshots=snaps, archive=fake.url,
                                     fsync=False), FAST)
        assert "http://support.microsoft.com/kb/977153/de" not in _urls(snaps)
        fake.log.clear()
        fetch(FetchOptions.from_args(["977153"], lang="en-us,de", snapshots=snaps,
                                     archive=fake.url, fsync=False), FAST)
    assert "http://support.microsoft.com/kb/977153/de" in _urls(snaps)
    asked = [unquote(r.path) for r in fake.requests("cdx")]
    assert asked and not any("url=support.microsoft.com/kb/977153&" in a for a in asked)
    assert len(fake.requests("replay")) == 1


def test_ids_come_from_a_file_too_and_an_unreadable_file_is_an_input_error(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("# wanted\nKB977153\n2000000-2000010  # a block\n", encoding="utf-8")
    opts = FetchOptions.from_args(["Q123456"], ids)
    assert [(r.lo, r.hi) for r in opts.ranges] == [(123456, 123456), (977153, 977153),
                                                   (2000000, 2000010)]
    with pytest.raises(InputError, match="cannot read"):
        FetchOptions.from_args([], tmp_path / "missing.txt")


def test_two_harvests_cannot_share_one_snapshots_folder_at_once(tmp_path):
    with Ledger(tmp_path), pytest.raises(InputError, match="another kbharvest"):
        Ledger(tmp_path)
    with Ledger(tmp_path):  # free again once the first one is done
        pass
