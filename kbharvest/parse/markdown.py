"""Microsoft's markdown articles (front matter, ``_Original KB number:_``, ``## Symptoms``,
pipe tables), and markdown conversions of KB pages: template ``markdown``."""

from __future__ import annotations

import re

from kbharvest.models import Article
from kbharvest.parse.blocks import Heading, Page, assemble
from kbharvest.parse.facts import read_article_line
from kbharvest.parse.plaintext import text_blocks
from kbharvest.parse.textutil import KB_LINK, mark_link, parse_date
from kbharvest.parse.urls import kb_from_url
from kbharvest.parse.vocab import heading_kind

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_ATX = re.compile(r"^(#{1,6})[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$")
_KBNUM = re.compile(r"_?Original KB number:_?\s*(?:&nbsp;|\s)*\s*(?:KB)?(\d{3,8})", re.I)
# bounded runs: an unclosed "[a](b" repeated along a line must not make this quadratic
_LINK = re.compile(r"!?\[([^\]\n]{0,500})\]\(([^)\s]{0,2000})[^)\n]{0,300}\)")
_WIKI_IMG = re.compile(r"!\[\[[^\]]*\]\]")
_APPLIES = re.compile(r"^_?\*{0,2}Applies to:?\*{0,2}_?:?\s*(?:&nbsp;)?\s*(.+)$", re.I)
_CAPTION_HEADING = re.compile(
    r"^(?:For all supported|Additional files for|For (?:the )?(?:x86|x64|IA-64|Itanium|ARM)\b)",
    re.I)


def looks_like(text: str) -> bool:
    """Front matter with ms.* keys, an 'Original KB number' line, or ATX headings."""
    head = text[:3000]
    if _FRONT.match(text) or _KBNUM.search(head):
        return True
    return len(re.findall(r"^#{1,6} \S", text, re.M)) >= 2


_QUOTE = re.compile(r"^\s*>\s?")
_ALERT = re.compile(r"^\s*\[!(?:NOTE|IMPORTANT|TIP|WARNING|CAUTION)\]\s*")
_PRODUCT_VERSION = re.compile(r"^_?Original product version:_?")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"(\*\*|__)(.{1,500}?)\1")
_EM = re.compile(r"(?<![\w*])[*_]([^\s*_](?:[^*_\n]{0,500}[^\s*_])?)[*_](?![\w*])")
_COMMENT = re.compile(r"<!--.*?-->")
_INLINE_TAG = re.compile(r"</?(?:br|p|b|i|strong|em|span|sup|sub)\s*/?>", re.I)
_MARKUP_CHARS = frozenset("[*_`<&\\!")


def _inline(line: str, links: list[str]) -> str:
    if _MARKUP_CHARS.isdisjoint(line):
        return line  # most table rows and plain sentences: nothing to undo
    line = _WIKI_IMG.sub("", line)

    def link(m: re.Match) -> str:
        text, href = m.group(1), m.group(2)
        links.append(href)
        if KB_LINK.search(href):
            # the section names that article: carry the target along, invisibly
            return text + mark_link(href)
        return text

    if "](" in line:
        line = _LINK.sub(link, line)
    if "<" in line:
        line = _COMMENT.sub("", _AUTOLINK.sub(r"\1", line))
        line = _INLINE_TAG.sub(" ", line)
    if "`" in line:
        line = _CODE.sub(r"\1", line)
    if "*" in line or "_" in line:
        line = _EM.sub(r"\1", _STRONG.sub(r"\2", line))
    return line.replace("&nbsp;", " ").replace("\\_", "_").replace("\\*", "*")


def parse(text: str, url: str | None = None, name: str = "") -> Article:
    page = Page(language=None)
    m = _FRONT.match(text)
    if m:
        front = m.group(1)
        text = text[m.end():]
        tm = re.search(r"^title:\s*(.+)$", front, re.M)
        if tm and tm.group(1).strip().strip("\"'"):
            page.title = tm.group(1).strip().strip("\"'")
        lm = re.search(r"^ms\.(?:locale|lang):\s*(\S+)", front, re.M)
        if lm:
            page.language = lm.group(1).lower()
    if m and (dm := re.search(r"^ms\.date:\s*(\S+)", m.group(1), re.M)):
        # the date Microsoft's docs print on the article ("Article • 09/22/2020")
        page.last_review = parse_date(dm.group(1))
    km = _KBNUM.search(text)
    if km:
        page.kb_id = int(km.group(1))

    lines = text.split("\n")
    chunk: list[str] = []
    in_code = False
    title_seen = False
    for raw in lines:
        line = raw.rstrip()
        if line.strip().startswith("```"):
            in_code = not in_code
            rest = line.strip()[3:].strip()
            if rest and in_code:
                chunk.append(_inline(rest, page.links))
            continue
        if in_code:
            chunk.append(line)
            continue
        # blockquote notes ("> [!NOTE]") are ordinary text
        if ">" in line or "[!" in line:
            line = _ALERT.sub("", _QUOTE.sub("", line))
        if "Original" in line and (_KBNUM.search(line) or _PRODUCT_VERSION.match(line.strip())):
            continue
        am = _APPLIES.match(line.strip()) if "pplies" in line else None
        if am:
            page.applies_to.extend(
                a.strip() for a in re.split(r",\s*", _inline(am.group(1), page.links)) if a.strip())
            continue
        art = read_article_line(line.strip()) if ":" in line else None
        if art is not None:
            page.kb_id = page.kb_id or art["kb_id"]
            page.last_review = page.last_review or art.get("last_review")
            page.revision = page.revision or art.get("revision")
            continue
        hm = _ATX.match(line) if line.startswith("#") else None
        if hm:
            level, htext = len(hm.group(1)), _inline(hm.group(2), page.links).strip()
            if level == 1 and not title_seen:
                title_seen = True
                if htext:
                    page.title = htext
                page.blocks.extend(text_blocks(chunk))
                chunk = []
                continue
            if not htext:
                continue
            if _CAPTION_HEADING.match(htext) and heading_kind(htext) is None:
                # a table caption printed as a heading
                page.blocks.extend(text_blocks(chunk))
                chunk = [htext]
                continue
            page.blocks.extend(text_blocks(chunk))
            chunk = []
            page.blocks.append(Heading(htext, depth=max(level - 1, 1)))
            continue
        chunk.append(_inline(line, page.links))
    page.blocks.extend(text_blocks(chunk))
    url_kb, url_lang = kb_from_url(url)
    return assemble(page, "markdown", url_kb=url_kb, url_lang=url_lang)
