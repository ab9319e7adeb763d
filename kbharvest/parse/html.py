"""HTML article pages of every era — classic (2003–2010), 2010–2015, /help/ and /topic/
pages, and the 1990s MSDN-CD/FTP ``.HTM`` form — read in one linear walk of the tree."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import Doctype, ProcessingInstruction

from kbharvest.models import Article
from kbharvest.parse.blocks import Heading, Page, Para, Table, assemble
from kbharvest.parse.facts import read_article_line, read_properties
from kbharvest.parse.plaintext import text_blocks
from kbharvest.parse.textutil import (
    KB_LINK,
    clean_ws,
    is_chrome,
    mark_link,
    parse_date,
    strip_chrome,
)
from kbharvest.parse.urls import kb_from_url
from kbharvest.parse.vocab import LEVEL2_KINDS, TOC_NODES, heading_kind

_SKIP_TAGS = frozenset({"script", "style", "noscript", "head", "nav", "footer", "header", "form",
                        "select", "option", "iframe", "svg", "img", "input", "textarea",
                        "object", "embed", "template", "button", "link", "meta"})
_SKIP_CLASSES = frozenset({
    "topofpage", "appliestolink", "sharebar", "share", "sharethis", "kbfeedback", "feedback",
    "breadcrumb", "breadcrumbs", "leftnav", "rightnav", "masthead",
    "disclaimer", "mt", "socialshare", "ocpfeedback", "supfeedback", "ratingarea",
    "articlefeedback", "kb_outer_footer", "sidebar", "langselector", "printarea",
    "supleftnav", "ocparticlefooter", "ocpfooter", "ocpheader", "uhfheader", "uhffooter",
    "articleproperty", "kbtitle", "toc", "toctitle", "hotfixdownload", "expandall",
    "navtitle", "langpicker", "kb_feedback", "rating", "ocpshare", "appliestoblock",
    "appliestolist", "ocparticledate", "lastupdated", "article-date", "kb_articleid",
})
_SKIP_IDS = frozenset({"wm-ipp-base", "wm-ipp", "donato",  # the Wayback Machine's toolbar
                       "header", "footer", "leftnav", "rightnav", "breadcrumb",
                       "kb_feedback", "feedbackarea", "uhfheader", "uhffooter", "searchbox"})
_BLOCK_TAGS = frozenset({"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "section", "article",
                         "main", "blockquote", "tr", "td", "th", "center", "details", "body",
                         "aside", "figure", "figcaption", "address", "hr", "table", "tbody",
                         "thead", "caption", "font_block"})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_TOC = re.compile(r"loadTOCNode\s*\(\s*(\d)\s*,\s*['\"](\w+)['\"]\s*\)")
# The keyword footer of old pages starts with one of these lines ("Version :", "Platform :"
# and the disclaimer follow them); a heading after it means it was article text after all.
_FOOTER_PARA = re.compile(r"^(?:Additional query words|Additional reference words|Keywords)\s*:|"
                          r"^THE INFORMATION (?:PROVIDED )?IN THE MICROSOFT KNOWLEDGE BASE",
                          re.I)
_CAPTION = re.compile(r"x86|x64|ia-?64|itanium|arm64|\barm\b|32-bit|64-bit|based versions|"
                      r"for all supported|edition|file information for", re.I)
_TITLE_SUFFIX = re.compile(r"\s*[|\-–—]\s*(?:Microsoft Support|Microsoft Learn|Support|"
                           r"Microsoft)\s*$")


def _classes(tag: Tag) -> list[str]:
    cls = tag.get("class") or []
    if isinstance(cls, str):
        cls = cls.split()
    return [c.lower().replace("\\", "") for c in cls]


# chrome containers named like gsfx_bsc_header, uhf-footer, kb_feedback (but kb_tableheader
# is a table caption, so a part must stand between separators)
_SKIP_PART = re.compile(r"(?:^|[_\-])(?:header|footer|leftnav|rightnav|breadcrumbs?|feedback|"
                        r"sharebar|masthead|searchbox|socialbar|hotfixdownload|translate|"
                        r"translations)(?:$|[_\-])")


def _skip(tag: Tag) -> bool:
    if tag.name in _SKIP_TAGS:
        return True
    attrs = tag.attrs
    if not attrs or ("class" not in attrs and "id" not in attrs):
        return False  # most tags: nothing to recognise chrome by
    tid = tag.get("id") or ""
    names = _classes(tag)
    if isinstance(tid, str) and tid:
        tid = tid.lower().replace("\\", "")
        if tid in _SKIP_IDS:
            return True
        names = [*names, tid]
    if tag.name not in ("td", "th", "tr") and any(c in _SKIP_CLASSES for c in names):
        return True
    # site chrome containers (gsfx_bsc_header, uhf-footer, kb_feedback …), but never the
    # headings' own ids
    return tag.name in ("div", "ul", "table", "span", "section", "aside") and any(
        _SKIP_PART.search(c) for c in names)


def _text(node: Tag) -> str:
    return clean_ws(node.get_text(" ", strip=True))


_LAYOUT_INSIDE = frozenset({"table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})


def _is_data_table(table: Tag) -> bool:
    """A table of data, not one that lays out the page (those hold headings or tables)."""
    return not any(getattr(d, "name", None) in _LAYOUT_INSIDE for d in table.descendants)


_CELL_BREAKS = frozenset({"p", "div", "br", "li", "ul", "ol", "pre", "table", "tr"})


def _cell_text(cell: Tag) -> str:
    """A cell's text with inline markup joined as the reader sees it ('Click Start, …')."""
    parts: list[str] = []
    for node in cell.descendants:
        if isinstance(node, NavigableString):
            if not isinstance(node, (Comment, Doctype, ProcessingInstruction)):
                parts.append(str(node))
        elif isinstance(node, Tag) and node.name in _CELL_BREAKS:
            parts.append(" ")
    return clean_ws(strip_chrome(re.sub(r"\s+", " ", "".join(parts))))


def _rows(table: Tag) -> list[list[str]]:
    rows = []
    for tr in table.descendants:
        if getattr(tr, "name", None) != "tr":
            continue
        cells = [_cell_text(td) for td in tr.children if getattr(td, "name", None) in ("td", "th")]
        if any(cells):
            rows.append(cells)
    return rows


_MARKER = re.compile(r"^(?:\d{1,3}[.)]?|[a-z][.)]|[•·\-*o]|\W?)$")


def _list_lines(rows: list[list[str]]) -> list[str] | None:
    """Old pages lay out numbered and bulleted lists as tables (a marker cell, a text
    cell): read them as the list they are."""
    if not rows or any(len(r) < 2 for r in rows):
        return None
    if not all(_MARKER.match(r[0].strip()) for r in rows):
        return None
    return [" ".join(c for c in r[1:] if c) for r in rows]


def _bold_heading(tag: Tag) -> str | None:
    """A paragraph holding only a bold label that names a section ('Symptoms')."""
    kids = [k for k in tag.children
            if not (isinstance(k, NavigableString) and not str(k).strip())]
    if len(kids) != 1 or not isinstance(kids[0], Tag) or kids[0].name not in ("b", "strong"):
        return None
    text = _text(kids[0])
    if len(text) < 80 and heading_kind(text):
        return text
    return None


class _Walker:
    """One pass over the body: headings, paragraphs, tables and <pre> text, in order."""

    def __init__(self, page: Page, bold_headings: bool = True) -> None:
        # old pages set some headings as bold paragraphs; on /help/ and /topic/ pages bold
        # labels ("Symptoms", "Workaround") only structure a known issue's text
        self.bold_headings = bold_headings
        self.page = page
        self.blocks: list = []
        self.buf: list[str] = []
        # (rank, block index) of the h1 headings: the best one is the article's title
        self.h1s: list[tuple[int, int]] = []
        self.links: list[str] = []

    def _toc_hint(self, script: Tag) -> None:
        """loadTOCNode(1, 'symptoms') names the section whose heading precedes it."""
        m = _TOC.search(script.string or "")
        if not m:
            return
        kind = TOC_NODES.get(m.group(2).lower())
        if not kind or (m.group(1) != "1" and kind not in LEVEL2_KINDS):
            # loadTOCNode(2, 'resolution') under a sub-heading names the parent section
            return
        for b in reversed(self.blocks):
            if isinstance(b, Heading):
                if b.kind is None:
                    b.kind = kind
                return

    def _facts(self, node: Tag, names: list[str]) -> None:
        """Boxes that are not text but state facts: article properties, applies-to lists."""
        if "appliestoblock" in names or "appliestolist" in names:
            for li in node.find_all("li"):
                t = _text(li)
                if t and t not in self.page.applies_to:
                    self.page.applies_to.append(t)
        elif names and any(n in _FACT_BOXES for n in names):
            _read_properties(node.get_text("\n", strip=True), self.page)

    def flush(self) -> None:
        if not self.buf:
            return
        raw = "".join(self.buf)
        self.buf = []
        lines = [ln for ln in (clean_ws(strip_chrome(x)) for x in raw.split("\n"))]
        lines = [ln for ln in lines if ln and not is_chrome(ln)]
        if lines:
            self.blocks.append(Para("\n".join(lines)))

    def take_title(self) -> str | None:
        """Remove the article title (the first class="title" h1, else the first h1) from the
        blocks and return it."""
        if not self.h1s:
            return None
        _, index = min(self.h1s)
        return self.blocks.pop(index).text

    def walk(self, root: Tag) -> None:
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            node, closing = stack.pop()
            if closing:
                self.flush()
                continue
            if isinstance(node, NavigableString):
                if isinstance(node, (Comment, Doctype, ProcessingInstruction)):
                    continue
                # source line breaks are spaces; clean_ws collapses the runs at flush
                self.buf.append(str(node).replace("\n", " "))
                continue
            if not isinstance(node, Tag):
                continue
            name = node.name
            if name == "a":
                href = node.get("href")
                if isinstance(href, str):
                    self.links.append(href)
                    if KB_LINK.search(href):
                        # the section names that article: carry the target along, invisibly
                        stack.append((NavigableString(mark_link(href)), False))
            if name == "br":
                self.buf.append("\n")
                continue
            if name == "script":
                self._toc_hint(node)
                continue
            if _skip(node):
                if name in ("div", "span", "table", "ul", "p"):
                    cls = _classes(node)
                    tid = node.get("id")
                    self._facts(node, [*cls, tid.lower()] if isinstance(tid, str) else cls)
                continue
            if name in _HEADINGS or name == "summary":
                self.flush()
                text = _text(node)
                if text and not is_chrome(text):
                    kind = None
                    a = next((d for d in node.descendants if getattr(d, "name", None) == "a"
                              and "accessibilityanchor" in _classes(d)), None)
                    title = a.get("title") if a is not None else None
                    if isinstance(title, str) and TOC_NODES.get(title.lower()) in LEVEL2_KINDS:
                        # otherwise it names the parent section, like loadTOCNode(2, …)
                        kind = TOC_NODES.get(title.lower())
                    depth = _HEADINGS.get(name, 5)
                    if name == "h1":
                        named = bool({"title", "ocparticletitle"} & set(_classes(node))) \
                            or node.get("id") == "mt_title"
                        self.h1s.append((0 if named else 1, len(self.blocks)))
                    self.blocks.append(Heading(text, depth=depth, kind=kind))
                continue
            if name == "p" and self.bold_headings and (label := _bold_heading(node)):
                self.flush()
                self.blocks.append(Heading(label, depth=5))
                continue
            if name == "table" and _is_data_table(node):
                self.flush()
                rows = _rows(node)
                cap = node.find("caption")
                caption = _text(cap) if cap is not None else None
                if caption is None and self.blocks and isinstance(self.blocks[-1], Para):
                    prev = self.blocks[-1].text
                    if "\n" not in prev and len(prev) < 250 and _CAPTION.search(prev):
                        caption = prev
                        self.blocks.pop()
                listed = _list_lines(rows)
                if listed is not None:
                    if caption:
                        self.blocks.append(Para(caption))
                    self.blocks.append(Para("\n".join(listed)))
                elif rows:
                    self.blocks.append(Table(rows=rows, caption=caption))
                elif caption:
                    self.blocks.append(Para(caption))
                continue
            if name == "pre":
                self.flush()
                self.blocks.extend(text_blocks(node.get_text().split("\n")))
                continue
            block = name in _BLOCK_TAGS
            if block:
                self.flush()
                stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.contents))
        self.flush()


_FACT_BOXES = frozenset({"articleproperty", "ocparticledate", "lastupdated", "article-date",
                         "kb_articleid"})


def _meta(soup: BeautifulSoup) -> dict[str, str]:
    out = {}
    for m in (soup.head or soup).find_all("meta"):
        key = (m.get("name") or m.get("property") or m.get("http-equiv") or "")
        val = m.get("content")
        if isinstance(key, str) and isinstance(val, str):
            out[key.lower()] = val
    return out


def _head_title(soup: BeautifulSoup) -> str | None:
    el = soup.find("title")
    if el is not None:
        return _TITLE_SUFFIX.sub("", _text(el)) or None
    return None


_FRONT_MATTER = re.compile(r"\A\s*---\n.*?\n---\n", re.S)
_SOURCE_URL = re.compile(
    r"(?:\bFrom|\bSource|Quelle|Fonte|Dal sito[^:<]{0,30}|来源|原文|出典)\s*[:：]?\s*"
    r"(?:<a[^>]*>|\[)?\s*<?(https?://support\.microsoft\.com/[^\s\"'<>\]]+)", re.I)


def parse(text: str, url: str | None = None, name: str = "", template: str = "html") -> Article:
    # pages kept in blogs arrive with the blog's YAML front matter: not part of the page
    text = _FRONT_MATTER.sub("", text, count=1)
    soup = BeautifulSoup(text, "lxml")
    meta = _meta(soup)
    page = Page()

    html_el = soup.find("html")
    lang = meta.get("ms.locale") or (html_el.get("lang") if html_el is not None else None)
    lang = lang or meta.get("language") or meta.get("content-language")
    page.language = lang.lower() if isinstance(lang, str) and lang.strip() else None

    if (m := re.search(r"kbArticleId\s*=\s*[\"']?(\d{3,8})", text[:100000])):
        page.kb_id = int(m.group(1))
    kbid = meta.get("kbid") or meta.get("awa-kb_id") or meta.get("ms.kb_id") or meta.get("kb_id")
    if kbid and page.kb_id is None and (m := re.search(r"\d{3,8}", kbid)):
        page.kb_id = int(m.group(0))
    if meta.get("kbmodify"):
        page.last_review = parse_date(meta["kbmodify"])
    if meta.get("keywords"):
        page.keywords = [k for k in re.split(r"[\s,;]+", meta["keywords"]) if k]

    root = soup.body or soup
    walker = _Walker(page, bold_headings=template not in ("topic", "help"))
    walker.walk(root)
    page.title = walker.take_title() or _head_title(soup)
    page.links = walker.links

    blocks: list = []
    footer: list[str] = []
    for b in walker.blocks:
        if isinstance(b, Heading) and footer:
            # not a footer after all: give its text back
            blocks.extend(Para(t) for t in footer)
            footer = []
        if isinstance(b, Para) and not footer:
            # the keyword footer of old pages can share a paragraph with the last text
            lines = b.text.split("\n")
            cut = next((k for k, ln in enumerate(lines) if k and _FOOTER_PARA.match(ln)), None)
            if cut is not None:
                blocks.append(Para("\n".join(lines[:cut])))
                b = Para("\n".join(lines[cut:]))
        if isinstance(b, Para):
            head = b.text.strip()
            if page.kb_id is None or page.revision is None:
                art = read_article_line(head.split("\n")[0])
                if art is not None:
                    page.kb_id = page.kb_id or art["kb_id"]
                    page.last_review = page.last_review or art.get("last_review")
                    page.revision = page.revision or art.get("revision")
                    continue
            if _FOOTER_PARA.match(head) or footer:
                footer.append(head)
                continue
            if re.match(r"^(?:Last reviewed|Last Review|Last Updated|Article ID)\s*:", head, re.I):
                _read_properties(head, page)
                continue
        elif isinstance(b, Table) and b.rows:
            first = " ".join(b.rows[0]).strip()
            if _FOOTER_PARA.match(first) or footer:
                footer.append("\n".join(" ".join(r) for r in b.rows))
                continue
        blocks.append(b)
    page.blocks = blocks
    m = re.search(r"(?:^|\s)Keywords\s*:\s*(.*?)(?=\s+(?:Version|Platform|Issue type|Solution "
                  r"Type|Technology)\s*:|\n|$)", "\n".join(footer))
    if m and m.group(1).strip() and not page.keywords:
        page.keywords = m.group(1).split()

    url_kb, url_lang = kb_from_url(url)
    if page.kb_id is None and url_kb is None:
        # a copied page names its source near the top ("From <http://…kb;en-us;257591>")
        m = _SOURCE_URL.search(text[:3000])
        src_kb = kb_from_url(m.group(1))[0] if m else None
        if src_kb:
            page.kb_id = src_kb
            page.warnings.append("KB id taken from the source address named in the page")
    return assemble(page, template, url_kb=url_kb, url_lang=url_lang)


def _read_properties(text: str, page: Page) -> None:
    # numeric dates: month first on US-English pages (and unlabelled ones), else day first
    dayfirst = (page.language or "en-us") not in ("en", "en-us")
    kb_id, review, revision = read_properties(text, dayfirst=dayfirst)
    page.kb_id = page.kb_id or kb_id
    page.last_review = page.last_review or review
    page.revision = page.revision or revision


_HTML_TAG = re.compile(r"<(?:p|div|h[1-6]|br|table|tr|td|li|ul|ol|span|a|b|font|html|body|"
                       r"script|section|main|pre|strong)[\s>/]", re.I)


def detect(text: str) -> str | None:
    """Which HTML template a page uses, or None when it is not KB HTML."""
    head = text[:200000]
    if len(_HTML_TAG.findall(head[:50000])) < 3:
        return None
    low = head.lower()
    if re.search(r"<meta\s+name=[\"']?kbid", low):
        return "ftp-htm"
    if ("ocparticletitle" in low or "ocpsection" in low or "supartic" in low
            or "ocpexpando" in low):
        # one layout served at two addresses: the page names its own (canonical) one
        m = re.search(r"<link[^>]+rel=[\"']?canonical[^>]*>|<meta[^>]+og:url[^>]*>", low)
        return "help" if m and "/help/" in m.group(0) else "topic"
    if "awa-kb_id" in low or 'name="ms.kb_id"' in low:
        return "help"
    if "kb_section" in low or "kb\\_section" in low or "kb_tabs_toggle" in low \
            or "sectionpreview" in low:
        return "kb-2010"
    if "loadtocnode" in low or ("subtitle" in low and "sbody" in low) or "class=sbody" in low:
        return "kb-classic"
    if "collapse this table" in low or ("hotfix download available" in low and "class=" in low):
        return "kb-2010"
    return None

