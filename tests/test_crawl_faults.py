"""The crawl against a misbehaving Wayback server: for every fault, nothing lost, nothing
duplicated, nothing corrupt stored."""

from __future__ import annotations

import json

import pytest
from crawlkit.fakearchive import FakeArchive, Fault
from crawlkit.pages import classic_page
from crawlkit.scenario import TOPIC, history
from crawlkit.warcs import Capture

from kbharvest.crawl import FetchOptions, fetch, import_warcs
from kbharvest.errors import ArchiveBlockedError, CdxError, KbharvestError
from kbharvest.http import HttpConfig
from kbharvest.ledger import Ledger
from kbharvest.warcstore import H_DIGEST_MATCH, iter_captures, sha1_base32

FAST = dict(cdx_per_min=60000, replay_per_min=60000, backoff_base=0.01, pause_on_429=0.05,
            read_timeout=0.5, connect_timeout=0.5)
IDS = ["977153-977160"]
V9 = classic_page(977158, "A made-up article known only by a revisit", "It flickers.")


def fault_history() -> list[Capture]:
    v1 = next(c for c in history() if c.timestamp == "20100102030405").body
    return [
        *history(),
        # a revisit of a payload already listed: nothing more to fetch
        Capture("http://support.microsoft.com/kb/977153", "20130101000000", v1, revisit=True),
        # a revisit whose original is not listed anywhere: the replay serves the payload
        Capture("http://support.microsoft.com/kb/977158", "20140101000000", V9, revisit=True),
        # a redirect loop between two archived redirects
        Capture("http://support.microsoft.com/kb/977159", "20160101000000", b"", status=301,
                headers=[("Location", "https://support.microsoft.com/en-us/help/977159")]),
        Capture("https://support.microsoft.com/en-us/help/977159", "20160101000000", b"",
                status=301, headers=[("Location", "http://support.microsoft.com/kb/977159")]),
        # merged articles: 977158's old address now shows 977153's page
        Capture("http://support.microsoft.com/kb/977158/en-us", "20150101000000", b"",
                status=301, headers=[("Location", "/kb/977153")]),
        # an archived redirect to a page the archive never captured (a live 404, no memento)
        Capture("http://support.microsoft.com/kb/977160/en-us", "20150101000000", b"",
                status=301, headers=[("Location", "/en-us/help/977160/never-captured")]),
        # an archived 404: known from the CDX alone
        Capture("http://support.microsoft.com/kb/977160", "20170101000000", b"gone", status=404),
        # later captures of old URLs that are no articles: empty, sign-in, 404 page, locale
        Capture("http://support.microsoft.com/kb/977157/en-us", "20190101000000", b" \n"),
        Capture("http://support.microsoft.com/kb/977155/en-us", "20190101000000", b"",
                status=302, headers=[("Location", "https://login.live.com/login.srf?wa=1")]),
        Capture("http://support.microsoft.com/kb/977156/en-us", "20190101000000", b"",
                status=302, headers=[("Location", "/common/404Error.aspx?404;kb/977156")]),
        Capture("http://support.microsoft.com/kb/977154/en-us", "20190101000000", b"",
                status=302, headers=[("Location", "http://support.microsoft.com/selectlocale.aspx")]),
    ]


def _fake(**kw) -> FakeArchive:
    # page_size 3 forces resumeKey paging on the busier queries
    fake = FakeArchive(fault_history(), page_size=3, **kw)
    fake.digest_override[("http://support.microsoft.com/kb/977153/en-us", "20120808080808")] = \
        "RECOMPRESSEDXXXXXXXXXXXXXXXXXXXX"
    return fake


def _run(url: str, snaps, **kw):
    opts = FetchOptions.from_args(IDS, snapshots=snaps, archive=url, fsync=False)
    return fetch(opts, HttpConfig(**{**FAST, **kw}))


def _stored(snaps) -> list[tuple[str, str, str]]:
    return sorted((c.url, c.timestamp, sha1_base32(c.body))
                  for f in sorted(snaps.glob("*.warc.gz")) for c in iter_captures(f))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    snaps = tmp_path_factory.mktemp("clean") / "snapshots"
    with _fake() as fake:
        summary = _run(fake.url, snaps)
        requests = len(fake.requests("replay"))
    return snaps, summary, requests


def test_a_clean_crawl_stores_every_distinct_version_and_explains_the_rest(clean):
    snaps, summary, _ = clean
    stored = _stored(snaps)
    assert [u for u, _, _ in stored] == sorted([
        "http://support.microsoft.com/default.aspx?scid=kb;EN-US;977153",
        "http://support.microsoft.com/kb/977153", "http://support.microsoft.com/kb/977153/en-us",
        TOPIC, "http://support.microsoft.com/kb/977158"])
    with Ledger(snaps) as ledger:
        reasons = {r["url"]: r["reason"] for r in ledger.iter_state("rejected")}
        en_us = ledger.find("http://support.microsoft.com/kb/977153/en-us", "20120808080808")
        topic = ledger.rows("SELECT chain FROM captures WHERE served_url=?", (TOPIC,))[0]
    assert reasons["http://support.microsoft.com/kb/977159"] == "redirect loop"
    assert reasons["http://support.microsoft.com/kb/977160"] == "archived HTTP status 404"
    assert reasons["http://support.microsoft.com/kb/977154"] == "redirect to the support home page"
    assert reasons["http://support.microsoft.com/kb/977157/en-us"] == "empty body"
    assert reasons["http://support.microsoft.com/kb/977160/en-us"] == \
        "archive answered HTTP 404 (no capture)"
    assert reasons["http://support.microsoft.com/kb/977158/en-us"] == \
        "redirected to the page of KB977153, not KB977158"
    assert reasons["http://support.microsoft.com/kb/977155/en-us"] == "sign-in page"
    assert reasons["http://support.microsoft.com/kb/977156/en-us"] == "archived 404 error page"
    assert reasons["http://support.microsoft.com/kb/977154/en-us"] == "locale chooser page"
    assert en_us["digest_match"] == 0  # a CDX digest mismatch is data, not a failure
    kinds = [hop["kind"] for hop in json.loads(topic["chain"])]
    assert kinds == ["archived", "archive"]  # historical 301, then "found capture at"
    assert summary.failed == 0


def test_a_digest_mismatch_is_written_into_the_warc_record(clean):
    import warcio.archiveiterator as ai

    snaps = clean[0]
    marks = {}
    for f in snaps.glob("*.warc.gz"):
        with open(f, "rb") as fh:
            for r in ai.ArchiveIterator(fh):
                if r.rec_type == "response":
                    marks[r.rec_headers.get_header("WARC-Target-URI")] = \
                        r.rec_headers.get_header(H_DIGEST_MATCH)
    assert marks["http://support.microsoft.com/kb/977153/en-us"] == "no"
    assert marks["http://support.microsoft.com/kb/977153"] == "yes"


FAULTS = [
    Fault("429", "/web/", times=2),
    Fault("429", "/cdx/", times=1),
    Fault("503", "/web/", times=3),
    Fault("503", "/cdx/", times=2),
    Fault("reset", "kb/977153/en-us", times=2),
    Fault("truncated_gzip", "scid=kb", times=2),
    Fault("slow", "/web/", times=2, delay=1.0),
    Fault("dup_encoding", "kb/977153", times=3),
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.kind}@{f.match}")
def test_each_fault_leaves_the_same_store_as_a_clean_crawl(clean, tmp_path, fault):
    snaps = tmp_path / "snapshots"
    with _fake() as fake:
        fake.faults.append(fault)
        summary = _run(fake.url, snaps)
        assert fault.times == 0, "the fault never fired"
    stored = _stored(snaps)
    assert stored == _stored(clean[0])
    assert len(stored) == len(set(stored))
    assert summary.failed == 0


def test_captures_that_fail_every_retry_are_fetched_on_the_next_run(clean, tmp_path):
    snaps = tmp_path / "snapshots"
    with _fake() as fake:
        fake.faults.append(Fault("503", "kb/977153/en-us", times=2))
        first = _run(fake.url, snaps, retries=1)
        assert first.failed == 1 and first.failed_reasons
        second = _run(fake.url, snaps, retries=1)
    assert second.fetched == 1 and second.failed == 0
    assert _stored(snaps) == _stored(clean[0])


def test_an_html_error_instead_of_cdx_stops_the_run_and_the_rerun_resumes(clean, tmp_path):
    snaps = tmp_path / "snapshots"
    with _fake() as fake:
        fake.faults.append(Fault("html_error", "/cdx/", times=1))
        with pytest.raises(CdxError):
            _run(fake.url, snaps)
        _run(fake.url, snaps)
    assert _stored(snaps) == _stored(clean[0])


def test_a_refused_connection_stops_the_crawl_with_the_blocked_message(tmp_path):
    fake = _fake().start()
    url = fake.url
    fake.stop()
    with pytest.raises(ArchiveBlockedError) as err:
        _run(url, tmp_path / "snapshots")
    assert isinstance(err.value, KbharvestError) and "blocked" in str(err.value)


def test_latest_takes_the_newest_article_version_skipping_soft_404s(tmp_path):
    snaps = tmp_path / "snapshots"
    with _fake() as fake:
        opts = FetchOptions.from_args(["977153", "977154"], snapshots=snaps, archive=fake.url,
                                      captures="latest", fsync=False)
        fetch(opts, HttpConfig(**FAST))
    assert [u for u, _, _ in _stored(snaps)] == [TOPIC]


def test_latest_looks_past_a_newer_redirect_to_the_home_page_with_the_same_empty_body(tmp_path):
    snaps = tmp_path / "snapshots"
    extra = Capture("http://support.microsoft.com/kb/977153", "20230101000000", b"", status=301,
                    headers=[("Location", "https://support.microsoft.com/")])
    with FakeArchive([*fault_history(), extra]) as fake:
        opts = FetchOptions.from_args(["977153"], snapshots=snaps, archive=fake.url,
                                      captures="latest", fsync=False)
        fetch(opts, HttpConfig(**FAST))
    assert [u for u, _, _ in _stored(snaps)] == [TOPIC]


def test_earliest_takes_the_oldest_version(tmp_path):
    snaps = tmp_path / "snapshots"
    with _fake() as fake:
        opts = FetchOptions.from_args(["977153"], snapshots=snaps, archive=fake.url,
                                      captures="earliest", fsync=False)
        fetch(opts, HttpConfig(**FAST))
    assert [t for _, t, _ in _stored(snaps)] == ["20090612101010"]


def test_shards_harvest_disjoint_parts_and_import_merges_them_without_duplicates(clean, tmp_path):
    with _fake() as fake:
        # 977153..977160 lie in one 100-block, so take a range across two blocks
        for k in (1, 2):
            opts = FetchOptions.from_args(["977153-977160", "977099"], shard=f"{k}/2",
                                          snapshots=tmp_path / f"s{k}", archive=fake.url,
                                          fsync=False)
            fetch(opts, HttpConfig(**FAST))
    merged = tmp_path / "merged"
    first = import_warcs([tmp_path / "s1", tmp_path / "s2"], merged)
    again = import_warcs([tmp_path / "s1", tmp_path / "s2"], merged)
    assert first.imported == 5 and again.imported == 0 and again.duplicates == 5
    assert _stored(merged) == _stored(clean[0])
