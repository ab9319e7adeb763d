"""The archive session: rate limits, the pause after 429, retries, caps and the host rule."""

from __future__ import annotations

import gzip
import random

import pytest
from crawlkit.fakearchive import FakeArchive, Fault
from crawlkit.warcs import Capture

from kbharvest.errors import ArchiveBlockedError, FetchError, OffsiteRequestError, RateLimitedError
from kbharvest.http import Archive, ArchiveSession, HttpConfig, RateLimiter, decode_body


class FakeClock:
    """Time that passes only when someone sleeps (and a little per request, if asked)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def _session(url: str, clock: FakeClock, **cfg) -> ArchiveSession:
    config = HttpConfig(**{"backoff_base": 1.0, "read_timeout": 0.5, **cfg})
    return ArchiveSession(url, config, clock=clock, sleep=clock.sleep, rng=random.Random(1))


@pytest.fixture
def fake():
    cap = Capture("http://support.microsoft.com/kb/977153", "20100102030405", b"<html>made up</html>")
    with FakeArchive([cap]) as server:
        yield server


REPLAY = ("20100102030405", "http://support.microsoft.com/kb/977153")


def test_the_limiter_never_lets_more_than_the_limit_into_any_minute():
    clock = FakeClock()
    limiter = RateLimiter(24, clock, clock.sleep)
    starts = []
    for _ in range(100):
        limiter.acquire()
        starts.append(clock())
        clock.t += 0.1  # the request itself
    worst = max(sum(1 for s in starts if a <= s < a + 60) for a in starts)
    assert worst == 24
    rate = (len(starts) - 1) / (starts[-1] - starts[0]) * 60
    assert 0.95 * 24 <= rate <= 24


def test_a_429_pauses_every_request_for_at_least_a_minute(fake):
    clock = FakeClock()
    fake.faults.append(Fault("429", "kb/977153"))
    s = _session(fake.url, clock)
    assert s.get_replay(*REPLAY).status == 200
    assert max(clock.sleeps) >= 60 and s.stats.rate_limited == 1
    assert len(fake.requests("replay")) == 2


def test_a_retry_after_longer_than_a_minute_is_honoured(fake):
    clock = FakeClock()
    fake.faults.append(Fault("429", "kb/977153", retry_after="300"))
    _session(fake.url, clock).get_replay(*REPLAY)
    assert max(clock.sleeps) >= 300


def test_endless_429s_stop_the_crawl_instead_of_hammering(fake):
    clock = FakeClock()
    fake.faults.append(Fault("429", "kb/977153", times=100))
    with pytest.raises(RateLimitedError) as err:
        _session(fake.url, clock, max_429=3).get_replay(*REPLAY)
    assert err.value.retry_after >= 60
    assert len(fake.requests("replay")) == 4


def test_5xx_is_retried_with_growing_jittered_backoff(fake):
    clock = FakeClock()
    fake.faults.append(Fault("503", "kb/977153", times=3))
    assert _session(fake.url, clock).get_replay(*REPLAY).status == 200
    backoffs = [s for s in clock.sleeps if s >= 0.5]
    assert len(backoffs) == 3 and backoffs[0] < backoffs[2]


def test_a_5xx_that_never_ends_is_a_fetch_error_after_the_retries(fake):
    clock = FakeClock()
    fake.faults.append(Fault("503", "kb/977153", times=10))
    with pytest.raises(FetchError, match="503") as err:
        _session(fake.url, clock, retries=2).get_replay(*REPLAY)
    assert err.value.retryable


@pytest.mark.parametrize("kind", ["reset", "truncated_gzip", "slow"])
def test_broken_bodies_and_timeouts_are_retried_until_whole(fake, kind):
    clock = FakeClock()
    fake.faults.append(Fault(kind, "kb/977153", delay=1.0))
    resp = _session(fake.url, clock).get_replay(*REPLAY)
    assert resp.status == 200 and resp.body == b"<html>made up</html>"


def test_a_duplicated_content_encoding_header_is_decoded_once(fake):
    fake.faults.append(Fault("dup_encoding", "kb/977153"))
    resp = _session(fake.url, FakeClock()).get_replay(*REPLAY)
    assert resp.body == b"<html>made up</html>" and "duplicate" in resp.encoding_note


def test_a_gzip_header_on_a_plain_body_keeps_the_body():
    body, note = decode_body(b"<html>plain</html>", "gzip", 1000)
    assert body == b"<html>plain</html>" and note


def test_bodies_over_the_cap_are_refused_compressed_or_not():
    bomb = gzip.compress(b"\0" * 100_000)
    with pytest.raises(FetchError) as err:
        decode_body(bomb, "gzip", 10_000)
    assert not err.value.retryable


def test_a_refused_connection_stops_with_a_blocked_address_message(fake):
    url = fake.url
    fake.stop()
    with pytest.raises(ArchiveBlockedError, match="probably blocked"):
        _session(url, FakeClock()).get_replay(*REPLAY)


def test_no_host_but_the_archive_is_ever_contacted(fake):
    s = _session(fake.url, FakeClock())
    with pytest.raises(OffsiteRequestError):
        s.request("replay", "http://support.microsoft.com/kb/977153")
    assert fake.log == []


def test_the_user_agent_names_the_tool_and_the_contact(fake):
    s = _session(fake.url, FakeClock(), contact="ops@example.invalid")
    assert "kbharvest/" in s.user_agent and "ops@example.invalid" in s.user_agent


@pytest.mark.parametrize("url, cdx, replay", [
    ("https://web.archive.org", "https://web.archive.org/cdx/search/cdx",
     "https://web.archive.org/web/2010id_/http://x/"),
    ("http://127.0.0.1:8080/coll/", "http://127.0.0.1:8080/coll/cdx",
     "http://127.0.0.1:8080/coll/2010id_/http://x/"),
])
def test_wayback_hosts_and_pywb_collections_have_their_own_layouts(url, cdx, replay):
    a = Archive.from_url(url)
    assert a.cdx_url == cdx and a.replay_url("2010", "http://x/") == replay
    assert a.parse_replay_url(replay) == ("20100000000000", "http://x/")


def test_cdx_and_replay_requests_share_one_keep_alive_connection(fake):
    s = _session(fake.url, FakeClock())
    for _ in range(5):
        s.get_replay(*REPLAY)
        s.get_cdx({"url": "support.microsoft.com/kb/977153", "output": "json"})
    assert len({r.client_port for r in fake.log}) == 1 and len(fake.log) == 10
