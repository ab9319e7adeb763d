"""Made-up KB pages in the layouts the archive holds (invented text, real page shapes)."""

from __future__ import annotations

import html


def classic_page(kb_id: int, title: str, symptom: str, revision: str = "1.0",
                 review: str = "March 3, 2009") -> bytes:
    """A 2003–2010 style article page (loadTOCNode, h2.subTitle, div.sbody)."""
    t = html.escape(title)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html><head><title>{t}</title>
<meta name="Description" content="{t}" /></head>
<body><div id="contentArea">
<h1 class="title">{t}</h1>
<div id="mbo_kb_props">Article ID: {kb_id} - Last Review: {review} - Revision: {revision}</div>
<script type="text/javascript">loadTOCNode(1, 'symptoms');</script>
<h2 class="subTitle">SYMPTOMS</h2>
<div class="sbody">{html.escape(symptom)}</div>
<script type="text/javascript">loadTOCNode(1, 'cause');</script>
<h2 class="subTitle">CAUSE</h2>
<div class="sbody">This problem occurs because the pretend widget service reads a stale
value from the invented registry key.</div>
<script type="text/javascript">loadTOCNode(1, 'resolution');</script>
<h2 class="subTitle">RESOLUTION</h2>
<div class="sbody">Install the imaginary hotfix. You must restart the computer after you apply
this hotfix.</div>
</div></body></html>""".encode()


def topic_page(kb_id: int, title: str, summary: str) -> bytes:
    """A /topic/ page (2021 onwards): the URL has no number, the page names it."""
    t = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en-us"><head><meta charset="utf-8" />
<title>{t} - Microsoft Support</title>
<meta name="awa-kb_id" content="{kb_id}" />
</head><body><main id="mainContent">
<article id="ocpArticleContent" class="ocpArticle">
<h1 class="ocpArticleTitle">{t}</h1>
<div class="ocpArticleContent">
<section class="ocpSection"><h2>Summary</h2><p>{html.escape(summary)}</p></section>
<section class="ocpSection"><h2>More information</h2><p>This made-up update changes
nothing real.</p></section>
</div></article></main></body></html>""".encode()


def home_page() -> bytes:
    """The support home page that old KB URLs now redirect to (a soft 404)."""
    return (b"<!DOCTYPE html><html><head><title>Microsoft Support</title></head><body>"
            b"<h1>How can we help you?</h1><p>Search for help with products.</p></body></html>")


def not_found_page() -> bytes:
    return (b"<html><head><title>Page not found</title></head><body><p>We're sorry, the page "
            b"you requested cannot be found.</p></body></html>")
