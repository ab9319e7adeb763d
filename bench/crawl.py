"""Benchmark the crawler's politeness against a local Wayback server with 100 ms latency.

Runs one harvest with ``kbharvest.crawl.fetch`` and the same harvest with a plain sequential
``requests`` loop (no limiter), against the same server, in one run, and prints for each:
requests, wall time, achieved rate per endpoint, and the most requests the server saw in
any 60-second window (and how many were above the configured limit).

    python bench/crawl.py                 # 200 ids, 600 captures (about 4 minutes)
    python bench/crawl.py --ids 40        # quicker, less telling
"""

from __future__ import annotations

import argparse
import bisect
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from crawlkit.fakearchive import FakeArchive  # the test kit lives under tests/
from crawlkit.pages import classic_page
from crawlkit.warcs import Capture

from kbharvest.cdx import CdxClient, parse_cdx
from kbharvest.crawl import FetchOptions, fetch, plan_queries
from kbharvest.http import ArchiveSession, HttpConfig
from kbharvest.ledger import Ledger

FIRST_ID = 977000


def captures(n_ids: int) -> list[Capture]:
    out = []
    for n in range(FIRST_ID, FIRST_ID + n_ids):
        for i, ts in enumerate(("20060101000000", "20090101000000", "20120101000000")):
            out.append(Capture(f"http://support.microsoft.com/kb/{n}", ts,
                               classic_page(n, f"Made-up article {n}", f"Version {i}",
                                            revision=f"{i}.0")))
    return out


def window_stats(times: list[float], limit: float, window: float = 60.0) -> tuple[int, int]:
    """(most requests in any half-open window of ``window`` s, requests above ``limit``)."""
    times = sorted(times)
    worst, above = 0, 0
    for i, t in enumerate(times):
        j = bisect.bisect_left(times, t + window)
        worst = max(worst, j - i)
    # requests above the limit: for each request, is it beyond `limit` in the window
    # ending at it?
    for i, t in enumerate(times):
        k = bisect.bisect_right(times, t - window)
        if i - k + 1 > limit:
            above += 1
    return worst, above


def rate_per_min(times: list[float]) -> float:
    if len(times) < 2:
        return 0.0
    times = sorted(times)
    return (len(times) - 1) / (times[-1] - times[0]) * 60


def report(name: str, fake: FakeArchive, wall: float, cfg: HttpConfig) -> dict:
    row = {"name": name, "wall": wall}
    for kind, limit in (("cdx", cfg.cdx_per_min), ("replay", cfg.replay_per_min)):
        times = [r.t for r in fake.requests(kind)]
        worst, above = window_stats(times, limit)
        row[kind] = (len(times), rate_per_min(times), worst, above, limit)
    return row


def plain_loop(url: str, opts: FetchOptions, pairs: list[tuple[str, str]]) -> None:
    """What a naive script does: same queries, same captures, back to back."""
    s = requests.Session()
    session = ArchiveSession(url, HttpConfig())
    client = CdxClient(session)
    for q in plan_queries(opts):
        key = None
        while True:
            params = client.params(q.url, q.match_type, key, client.page_size)
            text = s.get(session.archive.cdx_url, params=params, timeout=60).text
            key = parse_cdx(text).resume_key
            if not key:
                break
    for ts, original in pairs:
        s.get(session.archive.replay_url(ts, original), timeout=60, allow_redirects=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ids", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--cdx-per-min", type=float, default=24.0)
    ap.add_argument("--replay-per-min", type=float, default=480.0)
    args = ap.parse_args()
    cfg = HttpConfig(cdx_per_min=args.cdx_per_min, replay_per_min=args.replay_per_min)
    caps = captures(args.ids)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        snaps = Path(tmp) / "snapshots"
        opts = FetchOptions.from_args([f"{FIRST_ID}-{FIRST_ID + args.ids - 1}"],
                                      snapshots=snaps)
        with FakeArchive(caps, latency=args.latency) as fake:
            opts.archive = fake.url
            t0 = time.monotonic()
            summary = fetch(opts, cfg)
            rows.append(report("kbharvest fetch", fake, time.monotonic() - t0, cfg))
        with Ledger(snaps) as ledger:
            pairs = [(r["timestamp"], r["url"]) for r in ledger.iter_state("fetched")]
        with FakeArchive(caps, latency=args.latency) as fake:
            t0 = time.monotonic()
            plain_loop(fake.url, opts, pairs)
            rows.append(report("plain sequential loop", fake, time.monotonic() - t0, cfg))
    print(f"# {len(caps)} captures of {args.ids} ids, server latency {args.latency * 1000:.0f} ms,"
          f" limits CDX {cfg.cdx_per_min:g}/min, replay {cfg.replay_per_min:g}/min;"
          f" crawler stored {summary.fetched}")
    print("| run | wall s | CDX req | CDX /min | replay req | replay /min | replay/limit "
          "| max replay in any 60 s | replay above limit | CDX above limit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cn, crate, _, cabove, _ = r["cdx"]
        rn, rrate, rworst, rabove, rlimit = r["replay"]
        print(f"| {r['name']} | {r['wall']:.1f} | {cn} | {crate:.1f} | {rn} | {rrate:.1f} | "
              f"{rrate / rlimit:.3f} | {rworst} | {rabove} | {cabove} |")
    ratio = rows[0]["wall"] / rows[1]["wall"]
    print(f"\ncrawler wall time / plain loop wall time: {ratio:.2f}")


if __name__ == "__main__":
    main()
