"""Load benchmark: synthetic KB records through kbharvest's real load path vs DuckDB read_json.

In one run it
  1. generates N synthetic Article records of realistic size (default 100,000; seeded),
  2. writes them as JSONL (what ``kbharvest parse --format jsonl`` prints) and times DuckDB's
     own ``CREATE TABLE … AS SELECT * FROM read_json(…)`` of that file: the baseline,
  3. times ``kbharvest.store.load_records`` of the same records, as the parse workers hand
     them to the loader (CaptureRecord with the article's JSON): staging, one transaction per
     batch, the ten normalised tables, their indexes and the final checkpoint, into a fresh
     DuckDB file; the Article → JSON serialisation (done in the parse workers) is timed apart,
     Steps 2 and 3 alternate for --rounds rounds (default 3), each into fresh files; it
     prints every round's ratio, their median and the best load against the best baseline,
  4. times building the search index (``kbharvest.search.ensure_index``) on its own,
  5. measures peak memory (max RSS) of a load of N/10, N and 3N records, each in a fresh
     process fed by a generator (2,000 distinct articles, the rest later captures of them,
     each as big), to show memory stays flat as the record count grows.

Run:  python bench/load.py            (100k records; about six minutes on 2 cores)
      python bench/load.py --n 20000  (quicker)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

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
from kbharvest.search import ensure_index
from kbharvest.store import CaptureRecord, connect, load_records

_VOCAB = (
    "computer stop error volume snapshot service driver update hotfix registry restart server "
    "client network adapter memory file folder system process thread handle request response "
    "cluster node disk partition backup restore shadow copy application event log message "
    "security account domain controller policy group user profile session desktop terminal "
    "print spooler queue printer port protocol packet socket timeout connection certificate "
    "kernel mode crash dump debug symbol stack pointer buffer overflow access violation "
    "exception module library component interface method property object instance value"
)
_WORDS = _VOCAB.split()
_PRODUCTS = ["Windows Vista Service Pack 2", "Windows Server 2008 Service Pack 2",
             "Windows 7", "Windows Server 2008 R2", "Windows XP Service Pack 3",
             "Windows Server 2003 Service Pack 2", "Microsoft Exchange Server 2007"]
_FILES = ["Volsnap.sys", "Ntfs.sys", "Tcpip.sys", "Ntoskrnl.exe", "Win32k.sys", "Kernel32.dll",
          "Shell32.dll", "Mountmgr.sys", "Http.sys", "Msi.dll", "Rpcrt4.dll", "Srv.sys"]
_ARCH = [("x86", "For all supported x86-based versions"),
         ("x64", "For all supported x64-based versions"),
         ("ia64", "For all supported IA-64-based versions")]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 20)) for _ in range(sentences))


def synthetic_article(i: int) -> Article:
    """One made-up hotfix article of realistic size (about 8 KB of JSON), seeded by ``i``."""
    rng = random.Random(i)
    kb_id = 900000 + i // 3  # about three captures per article, as in a real crawl
    sym = _paragraph(rng, rng.randint(3, 6))
    cause = _paragraph(rng, rng.randint(1, 3))
    res = _paragraph(rng, rng.randint(2, 4))
    more = _paragraph(rng, rng.randint(2, 5))
    prereq = "To apply this hotfix, you must be running " + rng.choice(_PRODUCTS) + "."
    restart = "You must restart the computer after you apply this hotfix."
    repl = "This hotfix does not replace any other hotfixes."
    tables = []
    for arch, caption in _ARCH[: rng.randint(1, 3)]:
        rows = []
        for _ in range(rng.randint(2, 12)):
            rows.append(FileRow(
                file_name=rng.choice(_FILES),
                file_version=f"6.{rng.randint(0, 1)}.{rng.choice([6001, 6002, 7600, 7601])}."
                             f"{rng.randint(16000, 23000)}",
                file_size=rng.randint(10_000, 5_000_000),
                date=dt.date(2009, 1, 1) + dt.timedelta(days=rng.randint(0, 900)),
                time=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
                platform=arch,
                extra={"SP requirement": rng.choice(["SP1", "SP2"]),
                       "Service branch": rng.choice(["LDR", "GDR"])},
            ))
        tables.append(FileTable(caption=caption, architecture=arch, rows=rows))
    sections = [
        Section(kind="symptoms", level=1, heading="SYMPTOMS", text=sym),
        Section(kind="cause", level=1, heading="CAUSE", text=cause),
        Section(kind="resolution", level=1, heading="RESOLUTION", text=res),
        Section(kind="hotfix_information", level=2, heading="Hotfix information",
                text=_paragraph(rng, 2)),
        Section(kind="prerequisites", level=2, heading="Prerequisites", text=prereq),
        Section(kind="restart_requirement", level=2, heading="Restart requirement", text=restart),
        Section(kind="hotfix_replacement", level=2, heading="Hotfix replacement information",
                text=repl),
        Section(kind="file_information", level=2, heading="File information",
                text=_paragraph(rng, 2)),
        Section(kind="more_information", level=1, heading="MORE INFORMATION", text=more),
    ]
    refs = sorted({rng.randint(800000, 999999) for _ in range(rng.randint(1, 6))})
    return Article(
        kb_id=kb_id,
        title=_sentence(rng, rng.randint(6, 14)).rstrip("."),
        language=rng.choice(["en-us", "en-us", "en-us", "de-de", "fr-fr"]),
        last_review=dt.date(2008, 1, 1) + dt.timedelta(days=rng.randint(0, 1500)),
        revision=f"{rng.randint(1, 4)}.{rng.randint(0, 3)}",
        template=rng.choice(["kb-classic", "kb-2010", "help", "topic"]),
        sections=sections,
        symptoms=sym, cause=cause, resolution=res + "\n\nHotfix information\n" + prereq,
        more_information=more,
        prerequisites=Prerequisites(text=prereq, requirements=[rng.choice(_PRODUCTS)],
                                    kb_refs=refs[:1]),
        restart=Restart(requirement="required", text=restart),
        replacement=Replacement(replaces=[], text=repl),
        file_tables=tables,
        kb_refs=refs,
        applies_to=rng.sample(_PRODUCTS, rng.randint(1, 3)),
        keywords=["kbfix", "kbqfe", "kbexpertiseadvanced"],
        source=Source(url=f"http://support.microsoft.com/kb/{kb_id}",
                      timestamp=f"20{10 + i % 10:02d}0{1 + i % 9}15120000",
                      archive="web.archive.org", digest=f"SHA1{i:028d}"),
    )


def synthetic_records(n: int, unique: int | None = None) -> Iterator[CaptureRecord]:
    """``n`` records; with ``unique``, record i ≥ unique is another capture (a later
    timestamp) of article i % unique: as big as the rest, and far quicker to make."""
    pool: list[Article] = []
    for i in range(n):
        if unique is None or i < unique:
            article = synthetic_article(i)
            if unique is not None:
                pool.append(article)
        else:
            article = pool[i % unique]
            article = article.model_copy(update={"source": article.source.model_copy(
                update={"timestamp": f"{2011 + i // unique:04d}0101000000"})})
        yield CaptureRecord.from_article(article, input=f"bench#{i}")


def _peak_rss_mib() -> float:
    # VmHWM, not ru_maxrss: the latter survives fork+exec and would report the parent's peak
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# Distinct articles in the memory runs; the rest are later captures of them. The pool is
# held in memory (~35 KiB of Python objects each), the same in every run from 2,000 records.
MEMORY_POOL = 2_000


def memory_run(n: int, db: Path) -> dict:
    """Load ``n`` generated records in this process; report peak RSS (run in a child)."""
    base = _peak_rss_mib()
    con = connect(db)
    t0 = time.perf_counter()
    load_records(con, synthetic_records(n, unique=MEMORY_POOL))
    con.close()
    return {"n": n, "seconds": time.perf_counter() - t0, "peak_rss_mib": _peak_rss_mib(),
            "baseline_rss_mib": base}


def _child_memory(n: int, tmp: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n), "--db", str(tmp / f"mem{n}.duckdb")],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def settle() -> None:
    """Start a timed step on equal terms: the files written before it flushed to disk (else
    the kernel writes them back during the step) and Python's garbage collected."""
    os.sync()
    gc.collect()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="records to load (default 100000)")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    ap.add_argument("--rounds", type=int, default=3,
                    help="baseline/load pairs to time, alternating (default 3)")
    args = ap.parse_args()

    if args.memory_child:
        print(json.dumps(memory_run(args.memory_child, args.db)))
        return

    with tempfile.TemporaryDirectory(prefix="kbharvest-bench-") as tmpname:
        tmp = Path(tmpname)
        n = args.n
        memory = None
        if not args.no_memory:  # first, while this process is still small
            memory = [_child_memory(m, tmp) for m in (max(1, n // 10), n, 3 * n)]
        t0 = time.perf_counter()
        articles = [synthetic_article(i) for i in range(n)]
        gen_s = time.perf_counter() - t0
        jsonl = tmp / "records.jsonl"
        with open(jsonl, "w", encoding="utf-8") as fh:
            for a in articles:
                fh.write(a.model_dump_json())
                fh.write("\n")
        size_mb = jsonl.stat().st_size / 1e6
        print(f"generated {n:,} records in {gen_s:.1f} s; JSONL {size_mb:,.0f} MB "
              f"({jsonl.stat().st_size / n / 1024:.1f} KiB/record)", flush=True)
        # The parse workers hand the loader CaptureRecords carrying the article's JSON (the
        # same text ``parse --format jsonl`` prints): that serialisation is timed on its own.
        t0 = time.perf_counter()
        records = [CaptureRecord.from_article(a, input=f"bench#{i}")
                   for i, a in enumerate(articles)]
        ser_s = time.perf_counter() - t0
        del articles

        # Baseline and load alternate, each into a fresh file, for --rounds rounds: this
        # machine is shared, and a slow spell then shows as one odd round, not as the result.
        rounds, cpu = [], []
        for r in range(1, args.rounds + 1):
            for old in tmp.glob("*.duckdb*"):
                old.unlink()
            # Baseline: DuckDB's own reader, one nested table.
            settle()
            con = duckdb.connect(str(tmp / "baseline.duckdb"))
            c0, t0 = _cpu_seconds(), time.perf_counter()
            con.execute(f"CREATE TABLE records AS SELECT * FROM read_json('{jsonl}', "
                        "format = 'newline_delimited')")
            con.close()
            base_s, base_cpu = time.perf_counter() - t0, _cpu_seconds() - c0
            # kbharvest: the real code path from parsed records to the normalised tables.
            settle()
            con = connect(tmp / "kb.duckdb")
            c0, t0 = _cpu_seconds(), time.perf_counter()
            report = load_records(con, records)
            con.close()  # includes the final checkpoint into the database file
            load_s, load_cpu = time.perf_counter() - t0, _cpu_seconds() - c0
            rounds.append((base_s, load_s))
            cpu.append((base_cpu, load_cpu))
            print(f"round {r}: baseline DuckDB read_json → 1 table {base_s:6.2f} s; kbharvest "
                  f"load_records → 10 tables + 3 indexes ({report.batches} batches) "
                  f"{load_s:6.2f} s = {load_s / base_s:.2f}×   (CPU time {base_cpu:.1f} vs "
                  f"{load_cpu:.1f} s)", flush=True)
        con = connect(tmp / "kb.duckdb")
        t0 = time.perf_counter()
        state = ensure_index(con)
        con.close()
        index_s = time.perf_counter() - t0
        con = connect(tmp / "kb.duckdb", read_only=True)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("captures", "articles", "sections", "file_rows")}
        con.close()
        del records
        ratios = sorted(load / base for base, load in rounds)
        best_base, best_load = min(b for b, _ in rounds), min(lo for _, lo in rounds)
        print(f"load vs baseline: median of {len(rounds)} rounds "
              f"{ratios[len(ratios) // 2]:.2f}× (rounds {', '.join(f'{x:.2f}' for x in ratios)}); "
              f"best load {best_load:.2f} s vs best baseline {best_base:.2f} s = "
              f"{best_load / best_base:.2f}×", flush=True)
        print(f"CPU time (all threads) of the load vs the baseline: "
              f"{sum(c for _, c in cpu) / sum(b for b, _ in cpu):.2f}×", flush=True)
        print(f"  (not in that figure: Article → JSON in the parse workers {ser_s:.2f} s; "
              f"BM25 search index {index_s:.2f} s, {state})", flush=True)
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)

        if memory:
            print("peak RSS of a load: " + ", ".join(
                f"{m['n']:,} records {m['peak_rss_mib']:.0f} MiB" for m in memory)
                + f" (×{memory[1]['peak_rss_mib'] / memory[0]['peak_rss_mib']:.2f} for 10× the "
                f"records, then ×{memory[2]['peak_rss_mib'] / memory[1]['peak_rss_mib']:.2f} for "
                "3× more)", flush=True)
        print(f"machine: {os.cpu_count()} CPUs, duckdb {duckdb.__version__}, "
              f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
