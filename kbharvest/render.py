"""Terminal rendering of library results (tables, summaries) for the CLI."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table


def render_parse_table(results: Iterable) -> int:
    """Print one summary row per parse result; return the number of rejections."""
    console = Console()
    table = Table("input", "kb_id", "template", "title / error", "sections", "files")
    rejected = 0
    for r in results:
        if r.article is not None:
            a = r.article
            table.add_row(r.input, str(a.kb_id), a.template, (a.title or "")[:70],
                          str(len(a.sections)), str(sum(len(t.rows) for t in a.file_tables)))
        else:
            rejected += 1
            table.add_row(r.input, "", r.rejection.template or "", f"[red]{r.rejection.error}",
                          "", "")
    console.print(table)
    return rejected
