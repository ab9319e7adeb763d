"""The command line: options → one library call → render. Nothing else lives here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kbharvest import __version__
from kbharvest.errors import KbharvestError


class _Group(click.Group):
    """Turns every KbharvestError into one clean message and exit code 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KbharvestError as exc:
            click.echo(f"kbharvest: error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kbharvest")
def cli() -> None:
    """kbharvest: rescue the retired Microsoft Knowledge Base from web archives.

    \b
    Example:
      kbharvest parse snapshots/ --format table
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "json", "table"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one record per line; json: one JSON array; table: a summary per input.",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Parse with N worker processes (output order is unchanged).")
def parse(paths: tuple[Path, ...], fmt: str, jobs: int) -> None:
    """Parse KB pages (HTML, text, markdown, WARC files or folders) into records.

    Prints one record per input, in argument order; an input that is not a KB article
    prints {"input": PATH, "error": REASON}. Exit status 0 when every input parsed,
    1 when any was rejected.

    \b
    Example:
      kbharvest parse snapshots/ page.html kb977153.txt --format jsonl
    """
    from kbharvest.parse import parse_paths
    from kbharvest.render import render_parse_table

    rejected = 0
    results = parse_paths(list(paths), jobs=jobs)
    if fmt == "table":
        rejected = render_parse_table(results)
    else:
        out = sys.stdout
        if fmt == "json":
            out.write("[")
        first = True
        for item in results:
            rejected += int(item.kind == "rejection")
            line = item.to_json()
            if fmt == "json":
                out.write(("\n" if first else ",\n") + line)
            else:
                out.write(line + "\n")
            first = False
        if fmt == "json":
            out.write("\n]\n")
    sys.exit(1 if rejected else 0)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("schemas"),
              show_default=True, help="Folder to write the JSON Schema files into.")
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the files are out of date.")
def schema(out: Path, check: bool) -> None:
    """Write schemas/: the records' JSON Schema (from the pydantic models) and the DDL.

    \b
    Example:
      kbharvest schema --out schemas/
      kbharvest schema --check
    """
    from kbharvest.schema import write_schemas

    stale = write_schemas(out, check=check)
    for path in stale:
        click.echo(f"{'out of date' if check else 'wrote'}: {path}")
    if check and stale:
        sys.exit(1)


@cli.command()
@click.argument("ids", nargs=-1)
@click.option("--from-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read ids and ranges from a file, one per line (# comments allowed).")
@click.option("--discover", is_flag=True,
              help="Enumerate the KB ids the archive holds (prefix queries), within the given "
                   "ranges if any, and /topic/ pages.")
@click.option("--captures", type=click.Choice(["all", "latest", "earliest"]), default="all",
              show_default=True,
              help="all: one capture per distinct payload across every URL form of an id.")
@click.option("--lang", default="en-us", show_default=True,
              help="Language of per-language URL forms: en-us, a list de-de,fr-fr, or all.")
@click.option("--archive", default="https://web.archive.org", show_default=True,
              help="Wayback Machine host, or a pywb collection URL (http://host:8080/coll).")
@click.option("--snapshots", type=click.Path(path_type=Path, file_okay=False),
              default=Path("snapshots"), show_default=True,
              help="Folder for the WARC files and the crawl ledger.")
@click.option("--shard", metavar="K/N", help="Harvest only shard K of N of the id space.")
@click.option("--contact", help="E-mail or URL put in the User-Agent so the archive can reach you.")
@click.option("--cdx-per-min", type=click.FloatRange(min=0.01), default=24.0, show_default=True,
              help="CDX request limit (archive.org allows about 30/min).")
@click.option("--replay-per-min", type=click.FloatRange(min=0.01), default=480.0,
              show_default=True, help="Replay request limit (archive.org allows about 600/min).")
@click.option("--pause-on-429", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds every request waits after a 429, or the archive's longer "
                   "Retry-After (archive.org: keep at least 60).")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=60.0, show_default=True,
              help="Read timeout in seconds (connect timeout is at most 10 s).")
@click.option("--retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Retries per request on 5xx, resets, timeouts and truncated bodies.")
@click.option("--backoff", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="First backoff delay in seconds (doubles per retry, with jitter).")
@click.option("--max-warc-mb", type=click.IntRange(1), default=256, show_default=True,
              help="Start a new WARC file past this size.")
@click.option("--refresh", is_flag=True,
              help="Ask the archive's index again for captures made since the last run.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Draw a progress bar on stderr.")
def fetch(ids: tuple[str, ...], from_file: Path | None, discover: bool, captures: str,
          lang: str, archive: str, snapshots: Path, shard: str | None, contact: str | None,
          cdx_per_min: float, replay_per_min: float, pause_on_429: float, timeout: float,
          retries: int, backoff: float, max_warc_mb: int, refresh: bool, progress: bool) -> None:
    """Harvest archived captures of KB articles into WARC files under snapshots/.

    IDS are KB ids (977153, KB977153, Q123456) or ranges (2000000-2000100). Safe to stop
    at any moment and to run again: nothing stored is fetched twice. Exit status 1 when
    some captures still failed after every retry (run again to retry them).

    \b
    Example:
      kbharvest fetch 977153 2000000-2000100 --captures all --contact you@example.org
      kbharvest fetch 977153 --archive http://127.0.0.1:8080/my-coll
    """
    from kbharvest.crawl import ConsoleProgress, FetchOptions, format_summary
    from kbharvest.crawl import fetch as run_fetch
    from kbharvest.http import HttpConfig

    opts = FetchOptions.from_args(ids, from_file, lang=lang, shard=shard, discover=discover,
                                  captures=captures, snapshots=snapshots, archive=archive,
                                  max_warc_size=max_warc_mb * 1024 * 1024, refresh=refresh)
    config = HttpConfig(cdx_per_min=cdx_per_min, replay_per_min=replay_per_min,
                        pause_on_429=pause_on_429, read_timeout=timeout,
                        connect_timeout=min(10.0, timeout), retries=retries,
                        backoff_base=backoff, contact=contact)
    if progress:
        with ConsoleProgress() as bar:
            summary = run_fetch(opts, config, progress=bar)
    else:
        summary = run_fetch(opts, config)
    click.echo(format_summary(summary))
    sys.exit(1 if summary.failed else 0)


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--snapshots", type=click.Path(path_type=Path, file_okay=False),
              default=Path("snapshots"), show_default=True, help="The store to import into.")
def import_(paths: tuple[Path, ...], snapshots: Path) -> None:
    """Bring captures from WARC files (another machine or shard) into snapshots/, without
    duplicates.

    \b
    Example:
      kbharvest import shard2/snapshots/ other.warc.gz --snapshots snapshots/
    """
    from kbharvest.crawl import import_warcs

    s = import_warcs(list(paths), snapshots)
    click.echo(f"{s.files} WARC files, {s.records} responses: {s.imported} imported, "
               f"{s.duplicates} already present"
               + "".join(f", {n} skipped ({why})" for why, n in sorted(s.skipped.items())))
    for err in s.errors:
        click.echo(f"kbharvest: error: {err}", err=True)
    sys.exit(1 if s.errors else 0)


_DB_OPTION = click.option(
    "--db", type=click.Path(path_type=Path, dir_okay=False), default=Path("datasets/kb.duckdb"),
    show_default=True, help="The DuckDB database file.")


@cli.command()
@click.argument("snapshots", nargs=-1, type=click.Path(path_type=Path))
@_DB_OPTION
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Parse with N worker processes (one process writes the database).")
@click.option("--reparse", is_flag=True,
              help="Parse every capture again, even those already loaded, and replace their "
                   "rows (after a parser change).")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar on stderr.")
def load(snapshots: tuple[Path, ...], db: Path, jobs: int, reparse: bool, progress: bool) -> None:
    """Parse stored captures and bulk-load them into the DuckDB database.

    SNAPSHOTS are WARC files, folders or any input `parse` accepts (default: snapshots/).
    Incremental and idempotent: captures already loaded are skipped. Rejected captures
    are loaded too, with their reasons. Exit status 1 when an input could not be read.

    \b
    Example:
      kbharvest load snapshots/ --db datasets/kb.duckdb --jobs 2
    """
    from kbharvest.render import LoadProgress, render_load_report
    from kbharvest.store import load as load_captures

    with LoadProgress(enabled=progress) as bar:
        report = load_captures(list(snapshots) or [Path("snapshots")], db, jobs=jobs,
                               reparse=reparse, progress=bar)
    render_load_report(report)
    sys.exit(1 if report.errors else 0)


@cli.command()
@click.argument("snapshots", required=False, type=click.Path(path_type=Path),
                default=Path("snapshots"))
@_DB_OPTION
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Parse with N worker processes.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar on stderr.")
def build(snapshots: Path, db: Path, jobs: int, progress: bool) -> None:
    """The main job: load every capture in snapshots/ into the database, then print its stats.

    \b
    Example:
      kbharvest build                      # snapshots/ → datasets/kb.duckdb
      kbharvest build my-snapshots/ --db my.duckdb
    """
    from kbharvest.render import LoadProgress, render_load_report, render_stats
    from kbharvest.store import build as build_db

    with LoadProgress(enabled=progress) as bar:
        report, stats = build_db(snapshots, db, jobs=jobs, progress=bar)
    render_load_report(report)
    render_stats(stats)
    sys.exit(1 if report.errors else 0)


@cli.command()
@click.argument("sql")
@_DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="How to print the rows.")
def query(sql: str, db: Path, fmt: str) -> None:
    """Run SQL on the database, read-only (tables, views and match_bm25 are there).

    \b
    Example:
      kbharvest query "SELECT kb_id, title FROM latest_articles ORDER BY kb_id LIMIT 5"
      kbharvest query "SELECT * FROM files WHERE lower(file_name) = 'volsnap.sys'" --format csv
    """
    from kbharvest.render import render_query
    from kbharvest.store_read import query as run_query

    render_query(run_query(sql, db), fmt)


@cli.command()
@click.argument("text")
@_DB_OPTION
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many articles to show.")
def search(text: str, db: Path, limit: int) -> None:
    """Full-text search (BM25 over titles and section texts), best first, with snippets.

    \b
    Example:
      kbharvest search "stop 0xD6 snapshot" --limit 5
    """
    from kbharvest.render import render_search
    from kbharvest.search import search as run_search

    render_search(run_search(text, db, limit=limit))


@cli.command()
@click.argument("kb_id", type=click.IntRange(min=1))
@_DB_OPTION
@click.option("--lang", "language", help="Which language (default: en-us, else any).")
def show(kb_id: int, db: Path, language: str | None) -> None:
    """Show one article for reading: sections, hotfix facts, file tables, provenance, history.

    \b
    Example:
      kbharvest show 977153
      kbharvest show 977153 --lang de-de
    """
    from kbharvest.render import render_article
    from kbharvest.store_read import get_article

    render_article(get_article(kb_id, db, language=language))


@cli.command()
@_DB_OPTION
def stats(db: Path) -> None:
    """Count what the database holds: per template, language, year and rejection reason.

    \b
    Example:
      kbharvest stats --db datasets/kb.duckdb
    """
    from kbharvest.render import render_stats
    from kbharvest.store_read import stats as db_stats

    render_stats(db_stats(db))


@cli.command()
@click.option("--version", "version", required=True,
              help="The release version, e.g. 2026.11.0 (names the folder kbharvest-VERSION).")
@_DB_OPTION
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              default=Path("datasets"), show_default=True,
              help="Folder to write the release into; earlier releases there are compared.")
@click.option("--created", metavar="ISO-8601",
              help="The creation time recorded in manifest.json (default: $SOURCE_DATE_EPOCH, "
                   "else now).")
@click.option("--shard-mb", type=click.IntRange(1), default=256, show_default=True,
              help="Start a new Parquet file past this size.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show progress on stderr.")
def release(version: str, db: Path, out: Path, created: str | None, shard_mb: int,
            progress: bool) -> None:
    """Write a versioned, verifiable dataset release of the database.

    Writes OUT/kbharvest-VERSION/: Parquet per table (data/), articles.jsonl.gz, schema/,
    a dataset card (README.md), croissant.json, datapackage.json, CHANGELOG.md,
    manifest.json and SHA256SUMS. Same database and version (and --created): same bytes.

    \b
    Example:
      kbharvest release --version 2026.11.0 --db datasets/kb.duckdb --out datasets/
      kbharvest verify datasets/kbharvest-2026.11.0
    """
    from kbharvest.release import release as make_release
    from kbharvest.render import ReleaseProgress, render_release_report

    with ReleaseProgress(enabled=progress) as bar:
        report = make_release(version, db, out, created=created,
                              shard_bytes=shard_mb * 1024 * 1024, progress=bar)
    render_release_report(report)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def verify(path: Path) -> None:
    """Check a release folder: checksums, Parquet schemas, row counts, the card's numbers.

    Exit status 1, naming every bad or missing file, when anything disagrees.

    \b
    Example:
      kbharvest verify datasets/kbharvest-2026.11.0
    """
    from kbharvest.release_verify import verify as run_verify
    from kbharvest.render import render_verify_report

    render_verify_report(run_verify(path))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="kbharvest")


__all__ = ["cli", "main"]
