"""kill -9 the crawler at several points, run it again: the result equals an uninterrupted
run, and nothing that was already stored is fetched again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from crawlkit.fakearchive import FakeArchive
from crawlkit.pages import classic_page
from crawlkit.warcs import Capture

from kbharvest.ledger import Ledger
from kbharvest.warcstore import iter_captures, scan_members, sha1_base32

IDS = range(977000, 977040)


def _captures() -> list[Capture]:
    out = []
    for n in IDS:
        for i, ts in enumerate(("20080101000000", "20110101000000")):
            out.append(Capture(f"http://support.microsoft.com/kb/{n}", ts, classic_page(
                n, f"Made-up article {n}", f"Symptom {n} of version {i}", revision=f"{i}.0")))
        out.append(Capture(f"http://support.microsoft.com/default.aspx?scid=kb;en-us;{n}",
                           "20060101000000", classic_page(n, f"Made-up article {n}", "Oldest")))
    return out


class Killer:
    """Runs the CLI in a subprocess; SIGKILLs it when the fake archive sees the n-th request
    of a kind (while that request is being answered)."""

    def __init__(self, fake: FakeArchive) -> None:
        self.fake = fake
        self.proc: subprocess.Popen | None = None
        self.target: tuple[str, int] | None = None
        self.seen: dict[str, int] = {}
        self.replayed: list[tuple[str, str]] = []  # (original URL, timestamp) asked for
        self.lock = threading.Lock()
        fake.on_request = self.on_request

    def on_request(self, kind: str, path: str) -> None:
        with self.lock:
            self.seen[kind] = self.seen.get(kind, 0) + 1
            if kind == "replay":
                ts, _, url = path[len("/web/"):].partition("id_/")
                self.replayed.append((url, ts))
            if self.target and self.target == (kind, self.seen[kind]) and self.proc:
                os.kill(self.proc.pid, signal.SIGKILL)

    def run(self, snaps: Path, kill_at: tuple[str, int] | None,
            kill_after: float | None = None) -> int:
        """Run once; kill at the ``kill_at`` request or after ``kill_after`` seconds."""
        self.seen, self.replayed, self.target = {}, [], kill_at
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kbharvest", "fetch", f"{IDS[0]}-{IDS[-1]}", "--archive",
             self.fake.url, "--snapshots", str(snaps), "--cdx-per-min", "60000",
             "--replay-per-min", "60000", "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        timer = None
        if kill_after is not None:
            proc = self.proc
            timer = threading.Timer(kill_after, lambda: proc.poll() is None and proc.kill())
            timer.start()
        _, err = self.proc.communicate(timeout=120)
        if timer is not None:
            timer.cancel()
        if kill_at is None and kill_after is None:
            assert self.proc.returncode == 0, err.decode()
        return self.proc.returncode


def _whole_records(snaps: Path) -> set[tuple[str, str]]:
    """(url, served ts) of every whole response record, torn tails ignored."""
    out = set()
    for f in snaps.glob("*.warc.gz"):
        for m in scan_members(f)[0]:
            if m.rec_type == "response":
                out.add((m.headers["WARC-Target-URI"], m.headers["WARC-KB-Served-Timestamp"]))
    return out


def _stored(snaps: Path) -> list[tuple[str, str, str]]:
    return sorted((c.url, c.timestamp, sha1_base32(c.body))
                  for f in sorted(snaps.glob("*.warc.gz")) for c in iter_captures(f))


def test_kill_9_at_several_points_then_rerun_equals_an_uninterrupted_run(tmp_path):
    with FakeArchive(_captures(), page_size=25) as fake:
        killer = Killer(fake)
        clean = tmp_path / "clean"
        killer.run(clean, None)
        expected = _stored(clean)
        assert len(expected) == 3 * len(IDS)

        snaps = tmp_path / "killed"
        points = [("cdx", 3), ("replay", 7), ("replay", 31), ("replay", 2), ("replay", 45)]
        for point in points:
            before = _whole_records(snaps) if snaps.exists() else set()
            code = killer.run(snaps, point)
            assert code == -signal.SIGKILL, f"not killed at {point}"
            # nothing that was whole in a WARC before this run was asked for again
            refetched = before & set(killer.replayed)
            assert not refetched, f"refetched after kill: {sorted(refetched)[:3]}"
        before = _whole_records(snaps)
        killer.run(snaps, None)
        assert not (before & set(killer.replayed))
        killer.run(snaps, None)  # and once more: nothing at all to do
        assert killer.seen.get("replay", 0) == 0 and killer.seen.get("cdx", 0) == 0

    stored = _stored(snaps)
    assert stored == expected
    assert len(stored) == len(set(stored))
    for f in snaps.glob("*.warc.gz"):
        assert scan_members(f)[1] == f.stat().st_size  # no torn tails left
    with Ledger(snaps) as ledger:
        assert ledger.counts()["fetched"] == len(expected)
        assert ledger.counts()["queued"] == 0


def test_kill_9_at_moments_nobody_chose_then_rerun_equals_an_uninterrupted_run(tmp_path):
    # timed kills land mid-write, mid-commit, mid-repair …; whether a given one lands at all
    # depends on the machine's speed, and the result must be the same either way
    with FakeArchive(_captures(), page_size=25) as fake:
        killer = Killer(fake)
        killer.run(tmp_path / "clean", None)
        snaps = tmp_path / "killed"
        for delay in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
            before = _whole_records(snaps) if snaps.exists() else set()
            killer.run(snaps, None, kill_after=delay)
            assert not (before & set(killer.replayed))
        killer.run(snaps, None)
    assert _stored(snaps) == _stored(tmp_path / "clean")


def test_a_record_written_just_before_a_crash_is_recovered_and_a_torn_one_cut_off(tmp_path):
    from kbharvest.crawl import FetchOptions, fetch
    from kbharvest.http import HttpConfig

    fast = HttpConfig(cdx_per_min=60000, replay_per_min=60000)
    snaps = tmp_path / "snapshots"
    with FakeArchive(_captures()[:6]) as fake:
        opts = FetchOptions.from_args(["977000-977001"], snapshots=snaps, archive=fake.url)
        fetch(opts, fast)
        expected = _stored(snaps)
        (warc,) = snaps.glob("*.warc.gz")
        with Ledger(snaps) as ledger:
            last = ledger.rows("SELECT * FROM captures WHERE state='fetched' "
                               "ORDER BY warc_offset DESC")[0]
            # the crash came after the WARC write, before the ledger step
            ledger.update(last["id"], state="queued", warc_file=None)
            ledger.db.execute("UPDATE warc_files SET committed_end=?", (last["warc_offset"],))
        whole = warc.read_bytes()
        warc.write_bytes(whole + whole[last["warc_offset"]:][:100])  # plus a torn record
        fake.log.clear()
        summary = fetch(opts, fast)
    assert summary.recovered == 1 and summary.fetched == 0
    assert fake.requests("replay") == []
    assert warc.read_bytes() == whole
    assert _stored(snaps) == expected


def test_a_warc_file_killed_before_its_first_record_was_whole_is_removed(tmp_path):
    from kbharvest.crawl import repair_store

    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    torn = snaps / "kbharvest-20260101000000-123-00000.warc.gz"
    torn.write_bytes(b"\x1f\x8b\x08\x00")
    foreign = snaps / "someone-elses.warc.gz"
    foreign.write_bytes(b"not ours, not touched")
    with Ledger(snaps) as ledger:
        assert repair_store(ledger, snaps) == 0
    assert not torn.exists() and foreign.read_bytes() == b"not ours, not touched"
