"""A page flattened to text (template ``text``): headings glued to the next words, tables
reduced to captions or pipe rows, the page address on the first line, maybe cut off."""

from __future__ import annotations

import re

from kbharvest.models import Article
from kbharvest.parse.blocks import Heading, Page, Para, assemble
from kbharvest.parse.facts import REVIEW_LINE, REVISION_LINE, read_article_line
from kbharvest.parse.plaintext import text_blocks
from kbharvest.parse.textutil import is_chrome, parse_date
from kbharvest.parse.urls import kb_from_url
from kbharvest.parse.vocab import LEVEL1_KINDS, heading_kind

# All-caps main headings (what the classic page printed); glued anywhere.
_CAPS = ("MORE INFORMATION", "SYMPTOMS", "CAUSE", "RESOLUTION", "WORKAROUND", "STATUS",
         "SUMMARY", "INTRODUCTION", "APPLIES TO", "TECHNICAL INFORMATION")
_CAPS_RE = re.compile(
    r"(?<![A-Z_])(" + "|".join(_CAPS) + r")(?=[A-Z][a-z]|[A-Z]\s|\s*$|\s+[A-Z(\"“])", re.M)
# Title-case sub-headings, glued after a sentence end or a split heading.
_SUBS = ("Additional file information", "Hotfix replacement information",
         "Hotfix Replacement Information", "Hotfix information", "Hotfix Information",
         "Restart requirement", "Restart Requirement", "Registry information",
         "Registry Information", "File information", "File Information", "Prerequisites",
         "Hotfix download available", "Update replacement information",
         "Security update information", "More Information", "More information")
# One-word headings are ordinary words too ("Status Bar shows …"): split them only when glued
# to the next word ("StatusMicrosoft has …") or alone at the end of a line.
_SINGLE = ("Symptoms", "Cause", "Resolution", "Workaround", "Status", "Summary",
           "Introduction")
_LEAD = r"(?:(?<=^)|(?<=[.:!?)\"”])\s?|(?<=\n))"
_SUBS_RE = re.compile(
    _LEAD + "(" + "|".join(_SUBS) + r")(?=[A-Z]|\s*$|\s+[A-Z])"
    + "|" + _LEAD + "(" + "|".join(_SINGLE) + r")(?=[A-Z][a-z]|\s*$)", re.M)
_CAPTION_GLUE = re.compile(r"(?<=[a-z0-9)])(?=(?:Additional files for all supported|"
                           r"For all supported)\b)")
_SITE_LINES = re.compile(r"^(?:Microsoft KB Archive/\d+|From BetaArchive Wiki|"
                         r"Microsoft Knowledge Base Article|Help and Support|"
                         r"This article contents is Microsoft Copyrighted material\.|"
                         r"©.*|Trademarks|of Use \||This article was previously published "
                         r"under Q\d+)\s*$", re.I)
_KEYWORDS_LINE = re.compile(r"^((?:Keywords|Schlüsselwörter|Stichwörter|Parole chiave|Chiavi|"
                            r"Mots-clés|Palabras clave|Palavras-chave|キーワード)\s*:)\s*(.+)$",
                            re.I)
_URL_LINE = re.compile(r"^\s*(https?://\S+)\s*$")


def split_glued(text: str) -> str:
    """Put glued headings on lines of their own ('CAUSEThis issue' → 'CAUSE\\nThis issue')."""
    text = _CAPS_RE.sub(lambda m: "\n" + m.group(1) + "\n", text)
    text = _SUBS_RE.sub(lambda m: "\n" + (m.group(1) or m.group(2)) + "\n", text)
    text = _CAPTION_GLUE.sub("\n", text)
    return text


def _title_from(rest: str) -> tuple[str | None, str]:
    """Split 'Title textThe first sentence …' where the title is glued to the body."""
    rest = rest.strip()
    if not rest:
        return None, ""
    # a title is short: look for the glue point in the first 300 characters only
    for m in re.finditer(r"(?<=[a-z0-9)\"”])(?=[A-Z][a-z]+[ ,])", rest[:300]):
        head, tail = rest[: m.start()], rest[m.start():]
        if len(head) > 10 and len(tail) > 40 and re.search(r"[.!?:]\s", tail[:2000]):
            return head.strip(), tail.strip()
    return rest, ""


def parse(text: str, url: str | None = None, name: str = "") -> Article:
    lines = text.split("\n")
    page = Page()
    # a first line that is a bare URL is the page's address
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and _URL_LINE.match(lines[0]):
        url = url or lines[0].strip()
        lines.pop(0)

    body: list[str] = []
    title_done = False
    title_last_chance = False
    for idx, line in enumerate(lines):
        s = line.strip()
        art = read_article_line(s) if page.kb_id is None else None
        if art is not None:
            page.kb_id = art["kb_id"]
            page.last_review = art.get("last_review")
            page.revision = art.get("revision")
            title, after = _title_from(art.get("rest", ""))
            if title and not page.title:
                page.title = title
            # the title comes before the article-ID line, on it, or on the line right after
            title_done = bool(page.title)
            title_last_chance = True
            if after:
                body.append(after)
            continue
        if page.last_review is None and (rm := REVIEW_LINE.match(s)):
            page.last_review = parse_date(rm.group(1))
            continue
        if page.revision is None and (vm := REVISION_LINE.match(s)):
            page.revision = vm.group(1)
            continue
        if _SITE_LINES.match(s) or (idx < 12 and re.fullmatch(r"[|\s]*", s) and s):
            continue
        if not title_done and s:
            # the title: the first short line that is not a heading, chrome or a sentence
            if (not is_chrome(s) and heading_kind(s) is None and len(s) < 250
                    and not re.match(r"[•*·\-]\s", s)
                    and not s.endswith((".", ":")) and not _CAPS_RE.match(s)
                    and "Article ID" not in s):
                # "General information about … hotfixes (295413)": the number is the id
                if (tm := re.search(r"\s*\((?:KB|Q)?(\d{5,8})\)$", s)):
                    page.kb_id = page.kb_id or int(tm.group(1))
                    s = s[: tm.start()]
                page.title = s
                title_done = True
                continue
            if heading_kind(s) is not None or len(s) > 80 or s.endswith(".") \
                    or title_last_chance:
                title_done = True
        body.append(line)

    text2 = split_glued("\n".join(body))
    chunk: list[str] = []
    for line in text2.split("\n"):
        s = line.strip()
        km = _KEYWORDS_LINE.match(s)
        if km:
            page.blocks.extend(text_blocks(chunk))
            chunk = []
            page.blocks.append(Heading(km.group(1), depth=1, kind="keywords"))
            page.blocks.append(Para(km.group(2)))
            continue
        kind = heading_kind(s) if s and len(s) <= 100 else None
        if kind is not None and (s.isupper() or s in _SUBS or s in _SINGLE
                                 or _is_heading_line(s)):
            page.blocks.extend(text_blocks(chunk))
            chunk = []
            page.blocks.append(Heading(s, depth=1 if kind in LEVEL1_KINDS else 2, kind=kind))
            continue
        chunk.append(line)
    page.blocks.extend(text_blocks(chunk))
    # no id on the page or in its address: assemble() may still infer one from its mentions
    url_kb, url_lang = kb_from_url(url)
    return assemble(page, "text", url_kb=url_kb, url_lang=url_lang)


def _is_heading_line(s: str) -> bool:
    """A whole line that is a known heading (any language), not a sentence."""
    return not s.endswith((".", ",", ";")) and len(s.split()) <= 8
