"""Terminal rendering of library results (tables, summaries) for the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table


def render_parse_table(results: Iterable) -> int:
    """Print one summary row per parse result; return the number of rejections."""
    console = Console(width=max(Console().width, 120))
    table = Table(box=None, header_style="bold")
    table.add_column("input (or captured URL)", no_wrap=True, overflow="ellipsis", min_width=20,
                     max_width=36)
    table.add_column("kb_id", justify="right", no_wrap=True, min_width=7)
    table.add_column("template", no_wrap=True, min_width=10)
    table.add_column("title / error", overflow="ellipsis", no_wrap=True, max_width=36)
    table.add_column("sections", justify="right", no_wrap=True, min_width=8)
    table.add_column("file rows", justify="right", no_wrap=True, min_width=9)
    rejected = 0
    for r in results:
        model = r.article if r.article is not None else r.rejection
        # a WARC record is best named by the address it captured
        label = r.input
        if model.source is not None and model.source.url:
            label = re.sub(r"^https?://(?:www\.)?support\.microsoft\.com", "", model.source.url)
        if r.article is not None:
            a = r.article
            table.add_row(label, str(a.kb_id), a.template, (a.title or "")[:70],
                          str(len(a.sections)), str(sum(len(t.rows) for t in a.file_tables)))
        else:
            rejected += 1
            table.add_row(label, "", r.rejection.template or "", f"[red]{r.rejection.error}",
                          "", "")
    console.print(table)
    return rejected


# --------------------------------------------------------------------------- the database
# (load / query / search / show / stats; imports kept local so `parse` stays light)


class LoadProgress:
    """A rich progress display for ``kbharvest load``; call it as the load's progress hook."""

    def __init__(self, enabled: bool = True) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.enabled = enabled
        self._progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=False, disable=not enabled)
        self._task = None

    def __enter__(self) -> LoadProgress:
        self._progress.__enter__()
        self._task = self._progress.add_task("loading", total=None, counts="")
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def __call__(self, event: str, report) -> None:
        desc = {"scan": "loading", "batch": "loading", "index": "indexing"}.get(event, event)
        counts = (f"{report.captures_seen:,} captures · {report.already_loaded:,} already loaded"
                  f" · {report.parsed:,} parsed · {report.articles:,} articles"
                  f" · {report.rejected:,} rejected")
        self._progress.update(self._task, description=desc, counts=counts)


def render_load_report(report) -> None:
    """Print what a load did, and any inputs that could not be read."""
    console = Console()
    console.print(
        f"[bold]{report.db}[/]: {report.captures_seen:,} captures found, "
        f"{report.already_loaded:,} already loaded, {report.parsed:,} parsed → "
        f"{report.articles:,} articles, {report.rejected:,} rejected "
        f"({report.batches} batch{'es' if report.batches != 1 else ''}, "
        f"{report.seconds:.1f} s; parser version {report.parser_version})")
    if report.search_index != "ready":
        console.print(f"[yellow]search index: {report.search_index}")
    if report.other_parser_versions:
        console.print(f"[yellow]{report.other_parser_versions:,} captures were parsed by another "
                      "parser version; run `kbharvest load --reparse` to parse them again")
    if report.memory_uncapped:
        console.print("[yellow]a batch ran out of memory under the loader's memory cap and was "
                      "loaded again without it")
    for name, reason in report.errors:
        console.print(f"[red]not loaded: {name}: {reason}")


def _cell(value) -> str:
    if value is None:
        return ""
    return str(value)


def render_query(result, fmt: str = "table", max_width: int = 60) -> None:
    """Print a query result as a table, CSV or JSON (one object per row, in an array)."""
    import csv
    import datetime as dt
    import json
    import sys
    from decimal import Decimal

    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[_cell(v) for v in row] for row in result.rows])
        return
    if fmt == "json":
        def default(v):
            if isinstance(v, dt.date | dt.datetime | dt.time):
                return v.isoformat()
            if isinstance(v, Decimal):
                return float(v)
            if isinstance(v, bytes):
                return v.hex()
            return str(v)

        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1, default=default) + "\n")
        return
    table = Table(*result.columns, show_lines=False)
    for row in result.rows:
        table.add_row(*[(_cell(v) if len(_cell(v)) <= max_width
                         else _cell(v)[: max_width - 1] + "…") for v in row])
    console = Console()
    console.print(table)
    console.print(f"[dim]{len(result.rows):,} row{'s' if len(result.rows) != 1 else ''}")


def render_search(result) -> None:
    """Print search hits: rank, KB id, language, score, title and a highlighted snippet."""
    from rich.text import Text

    console = Console()
    if result.note:
        console.print(f"[yellow]{result.note}", highlight=False)
    if not result.hits:
        console.print(f"no articles match {result.query!r}")
        return
    for rank, hit in enumerate(result.hits, 1):
        head = Text.assemble((f"{rank:>2}. ", "bold"), (f"KB{hit.kb_id}", "bold cyan"),
                             f" [{hit.language or '?'}] ", (hit.title, "bold"),
                             (f"  score {hit.score:.3f}", "dim"))
        console.print(head)
        snippet = Text("    " + hit.snippet)
        for start, end in hit.highlights:
            snippet.stylize("bold yellow", start + 4, end + 4)
        console.print(snippet)


def render_article(view) -> None:
    """Print one article for a person: title, dates, sections, hotfix facts, files, provenance."""
    from rich.panel import Panel
    from rich.rule import Rule

    a = view.article
    console = Console()
    facts = [f"KB{a.kb_id}", a.language or "language unknown", f"template {a.template}"]
    if a.last_review:
        facts.append(f"last review {a.last_review.isoformat()}")
    if a.revision:
        facts.append(f"revision {a.revision}")
    console.print(Panel(f"[bold]{a.title or '(no title)'}[/]\n[dim]{' · '.join(facts)}",
                        expand=True))
    for sec in a.sections:
        if sec.kind == "file_information" and not sec.text.strip():
            continue
        style = "bold" if sec.level == 1 else "bold italic"
        console.print(Rule(f"[{style}]{sec.heading}", align="left", style="dim"))
        if sec.text.strip():
            console.print(sec.text, highlight=False)
    if a.prerequisites or a.restart or a.replacement:
        console.print(Rule("[bold]Hotfix facts", align="left", style="dim"))
        if a.prerequisites:
            reqs = "; ".join(a.prerequisites.requirements) or a.prerequisites.text
            refs = ", ".join(f"KB{r}" for r in a.prerequisites.kb_refs)
            console.print(f"[bold]Prerequisites:[/] {reqs}" + (f" ({refs})" if refs else ""),
                          highlight=False)
        if a.restart:
            console.print(f"[bold]Restart:[/] {a.restart.requirement.replace('_', ' ')}")
        if a.replacement:
            reps = ", ".join(f"KB{r}" for r in a.replacement.replaces) or "none"
            console.print(f"[bold]Replaces:[/] {reps}", highlight=False)
    for ft in a.file_tables:
        title = ft.caption or "File information"
        if ft.architecture:
            title += f" [{ft.architecture}]"
        if ft.rows_missing or not ft.rows:
            console.print(f"[bold]{title}[/]: [dim](the archived page kept no rows)")
            continue
        extra_keys = list(dict.fromkeys(k for r in ft.rows for k in r.extra))
        table = Table("File name", "File version", "File size", "Date", "Time", "Platform",
                      *extra_keys, title=title, title_justify="left")
        for r in ft.rows:
            table.add_row(r.file_name, r.file_version or "",
                          f"{r.file_size:,}" if r.file_size is not None else "",
                          r.date.isoformat() if r.date else "", r.time or "", r.platform or "",
                          *[r.extra.get(k, "") for k in extra_keys])
        console.print(table)
    if a.applies_to:
        console.print(f"[bold]Applies to:[/] {'; '.join(a.applies_to)}", highlight=False)
    if a.kb_refs:
        console.print("[bold]Refers to:[/] " + ", ".join(f"KB{r}" for r in a.kb_refs),
                      highlight=False)
    if a.keywords:
        console.print(f"[bold]Keywords:[/] {' '.join(a.keywords)}", highlight=False)
    c = view.capture
    console.print(Rule("[bold]Provenance", align="left", style="dim"))
    if c.url and c.served_ts:
        console.print(f"archived copy: https://web.archive.org/web/{c.served_ts}/{c.url}",
                      highlight=False)
    for label, value in (("url", c.url), ("archive", c.archive), ("served", c.served_ts),
                         ("requested", c.requested_ts), ("archive digest", c.digest),
                         ("sha256", c.sha256), ("input", c.input),
                         ("parser version", c.parser_version)):
        if value:
            console.print(f"[dim]{label}:[/] {value}", highlight=False)
    if len(view.history) > 1:
        table = Table("#", "served", "last review", "revision", "content", "url",
                      title=f"{len(view.history)} captures of KB{a.kb_id} ({a.language})",
                      title_justify="left")
        for i, h in enumerate(view.history, 1):
            changed = {None: "", True: "changed", False: "same"}[h.content_changed]
            table.add_row(str(i), h.served_ts or "", str(h.last_review or ""), h.revision or "",
                          changed, h.url or h.input)
        console.print(table)
    others = [lang for lang in view.languages if lang != (a.language or "(none)")]
    if others:
        console.print(f"[dim]also loaded in: {', '.join(others)} (kbharvest show {a.kb_id} "
                      f"--lang {others[0]})", highlight=False)


def render_stats(stats) -> None:
    """Print the database's counts: totals, then per template, language, year and reason."""
    console = Console()
    totals = Table("what", "count", title=f"{stats.db}", title_justify="left")
    for key, n in stats.totals.items():
        totals.add_row(key.replace("_", " "), f"{n:,}")
    totals.add_row("search index", stats.search_index)
    console.print(totals)
    from rich.columns import Columns

    tables = []
    for title, rows in (("template", stats.by_template), ("language", stats.by_language),
                        ("capture year", stats.by_capture_year),
                        ("last review year", stats.by_review_year),
                        ("parser version", stats.parser_versions),
                        ("rejection reason", stats.rejections)):
        if not rows:
            continue
        table = Table(title, "n", box=None, title_justify="left", header_style="bold")
        for key, n in rows:
            table.add_row(key, f"{n:,}")
        tables.append(table)
    console.print(Columns(tables, padding=(1, 3)))


# --------------------------------------------------------------------------- releases


class ReleaseProgress:
    """A rich progress display for ``kbharvest release``; call it as the release's hook."""

    def __init__(self, enabled: bool = True) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=True,
            disable=not enabled or not console.is_terminal)
        self._task = None

    def __enter__(self) -> ReleaseProgress:
        self._progress.__enter__()
        self._task = self._progress.add_task("releasing", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def __call__(self, step: str, done: int, total: int) -> None:
        self._progress.update(self._task, description=step, completed=done, total=total)


def render_release_report(report) -> None:
    """Print what ``kbharvest release`` wrote."""
    m = report.manifest
    console = Console()
    tables = m["tables"]
    console.print(f"[bold]{report.path}[/]: release {m['version']}, {report.files} files, "
                  f"{report.bytes:,} bytes ({report.seconds:.1f} s)")
    console.print("  " + ", ".join(f"{name} {t['rows']:,}" for name, t in tables.items()))
    console.print(f"  {m['articles_jsonl']['records']:,} records in "
                  f"{m['articles_jsonl']['path']}; parser version {m['parser_version']}")
    prev = m.get("previous_release")
    if prev:
        console.print(f"  since {prev['version']}: {prev['added']:,} KB ids added, "
                      f"{prev['removed']:,} removed, {prev['changed']:,} changed")
    else:
        console.print("  no earlier release found to compare with")


def render_verify_report(report) -> None:
    """Print a release that passed ``kbharvest verify``."""
    rows = sum(report.rows.values())
    Console().print(f"[bold green]ok[/] {report.path}: release {report.version}, "
                    f"{report.files} files checked, {rows:,} rows in {len(report.rows)} "
                    f"tables, {report.records:,} records")
