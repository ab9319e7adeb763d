"""Release benchmark: what a release costs next to the load that made its database, where the
time goes, how big it is next to the database, and whether two runs give the same bytes.

    python bench/release.py              # the 5,000 articles of kbarchive-sample.tar.gz
    python bench/release.py --quick      # 1,000 of them

Reads ../shared/corpus (beside the repository, or --corpus). Figures go into bench/README.md
("## Release").
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kbharvest import store  # noqa: E402 - after the path set-up above
from kbharvest.release import release  # noqa: E402
from kbharvest.release_verify import verify  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
TARBALL = "kbarchive-sample.tar.gz"


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def same_bytes(a: Path, b: Path) -> bool:
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--quick", action="store_true", help="1,000 articles instead of 5,000")
    args = ap.parse_args()
    if not (args.corpus / TARBALL).is_file():
        sys.exit(f"no {TARBALL} in {args.corpus}: pass --corpus")
    with tempfile.TemporaryDirectory(prefix="kbharvest-bench-") as tmp:
        work = Path(tmp)
        pages = work / "pages"
        pages.mkdir()
        with tarfile.open(args.corpus / TARBALL) as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
            members = members[:1000] if args.quick else members
            for i, m in enumerate(members):
                (pages / f"{i:05d}.txt").write_bytes(tar.extractfile(m).read())
        db = work / "kb.duckdb"
        t = time.perf_counter()
        report = store.load([pages], db, jobs=1)
        load_s = time.perf_counter() - t

        steps: list[tuple[str, float]] = []

        def progress(step: str, done: int, total: int) -> None:
            steps.append((step, time.perf_counter()))

        t = time.perf_counter()
        first = release("bench", db, work / "a", created="2026-01-01T00:00:00Z",
                        progress=progress).path
        release_s = time.perf_counter() - t
        t = time.perf_counter()
        second = release("bench", db, work / "b", created="2026-01-01T00:00:00Z").path
        release2_s = time.perf_counter() - t
        t = time.perf_counter()
        checked = verify(first)
        verify_s = time.perf_counter() - t

        db_bytes = db.stat().st_size + (db.with_suffix(".duckdb.wal").stat().st_size
                                        if db.with_suffix(".duckdb.wal").exists() else 0)
        parquet = sum(p.stat().st_size for p in (first / "data").rglob("*.parquet"))
        jsonl = (first / "articles.jsonl.gz").stat().st_size
        total = tree_bytes(first)
        best = min(release_s, release2_s)
        print(f"{len(members):,} articles ({report.articles:,} loaded, {report.rejected:,} "
              f"rejected); Python {platform.python_version()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        print(f"  load (parse + DuckDB, jobs=1) {load_s:7.2f} s")
        print(f"  release                       {release_s:7.2f} s  second run "
              f"{release2_s:.2f} s   ratio release/load {best / load_s:.2f}x")
        print(f"  verify                        {verify_s:7.2f} s   ratio verify/release "
              f"{verify_s / best:.2f}x   ({sum(checked.rows.values()):,} rows, "
              f"{checked.records:,} records)")
        print(f"  per 1,000 articles: release {1000 * best / report.articles:.2f} s, "
              f"verify {1000 * verify_s / report.articles:.2f} s")
        print("  where the first release's time went:")
        ends = [*(s[1] for s in steps[1:])]
        for (name, start), end in zip(steps, ends, strict=False):
            print(f"    {name:42s} {end - start:6.2f} s  {100 * (end - start) / release_s:5.1f}%")
        print(f"  sizes: database {db_bytes / 1e6:.1f} MB; release {total / 1e6:.1f} MB "
              f"(Parquet {parquet / 1e6:.1f} MB, {jsonl and 'JSONL.gz'} {jsonl / 1e6:.1f} MB); "
              f"ratio Parquet/database {parquet / db_bytes:.2f}x, release/database "
              f"{total / db_bytes:.2f}x")
        print(f"  two runs byte-identical: {'yes' if same_bytes(first, second) else 'NO'}")


if __name__ == "__main__":
    main()
