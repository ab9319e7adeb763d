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
    """Write the JSON Schema of the records (generated from the pydantic models).

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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="kbharvest")


__all__ = ["cli", "main"]
