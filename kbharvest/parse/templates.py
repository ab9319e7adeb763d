"""Registry: template name → function (text, url=, name=) → Article."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from kbharvest.models import Article
from kbharvest.parse import flat, ftptext, html, markdown

TEMPLATES: dict[str, Callable[..., Article]] = {
    "ftp-txt": ftptext.parse,
    "text": flat.parse,
    "markdown": markdown.parse,
    **{name: partial(html.parse, template=name)
       for name in ("kb-classic", "kb-2010", "help", "topic", "ftp-htm", "html")},
}
