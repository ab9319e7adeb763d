"""The 1990s–2002 plain-text article (``DOCUMENT:Q10022 07-SEP-2001 [word97]`` header,
underlined headings, a keyword footer): template ``ftp-txt``."""

from __future__ import annotations

import re

from kbharvest.models import Article
from kbharvest.parse.blocks import Heading, Page, assemble
from kbharvest.parse.filetables import text_header
from kbharvest.parse.plaintext import text_blocks
from kbharvest.parse.textutil import parse_date
from kbharvest.parse.urls import kb_from_url
from kbharvest.parse.vocab import LEVEL1_KINDS, heading_kind

_HEADER = re.compile(r"^(DOCUMENT|TITLE|PRODUCT|PROD/VER|OPER/SYS|KEYWORDS)\s*:(.*)$")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
_RULE = re.compile(r"^\s*-{5,}\s*$")
_FOOTER = re.compile(r"^(Additional query words:|Keywords\s+:|Additional reference words:|"
                     r"THE INFORMATION PROVIDED IN THE MICROSOFT KNOWLEDGE BASE)")


def looks_like(text: str) -> bool:
    """True for the DOCUMENT:/TITLE: header of the old text articles."""
    head = text.lstrip()[:400]
    return bool(re.match(r"DOCUMENT:\s*Q?\d+", head)) and "TITLE" in head


def parse(text: str, url: str | None = None, name: str = "") -> Article:
    lines = text.split("\n")
    page = Page(language="en")
    body_start = 0
    for i, line in enumerate(lines[:20]):
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        body_start = i + 1
        if key == "DOCUMENT":
            dm = re.match(r"Q?(\d+)(?:\s+(\S+))?", value)
            if dm:
                page.kb_id = int(dm.group(1))
                page.last_review = parse_date(dm.group(2) or "")
        elif key == "TITLE":
            page.title = value or None
        elif key == "KEYWORDS":
            page.keywords = value.split()
    body = lines[body_start:]
    # the footer (query words, keyword table, disclaimer) is not article text
    cut = len(body)
    for i, line in enumerate(body):
        if line.lstrip()[:1] in "AKT" and _FOOTER.match(line.strip()):
            cut = i
            break
    footer = body[cut:]
    body = body[:cut]
    while body and re.match(r"^\s*=+\s*$", body[-1] or "="):
        body.pop()

    # "The information in this article applies to:" block between dashed rules
    for i, line in enumerate(body[:40]):
        if "applies to" in line.lower() and line.rstrip().endswith(":"):
            items: list[str] = []
            end = len(body)
            for j in range(i + 1, len(body)):
                nxt = body[j].strip()
                if _RULE.match(body[j]):
                    end = j + 1  # the block's closing rule
                    break
                if nxt.startswith("- "):
                    items.append(nxt[2:].strip())
                elif items and nxt and body[j][:1].isspace():
                    items[-1] += " " + nxt  # an item wrapped onto the next line
                elif items or nxt:
                    end = j  # no closing rule: the list ends where the items do
                    break
            page.applies_to = items
            # drop the block, and the rule that opened it
            begin = i - 1 if i and _RULE.match(body[i - 1]) else i
            body = body[:begin] + body[end:]
            break

    chunk: list[str] = []
    i = 0
    while i < len(body):
        line = body[i]
        nxt = body[i + 1] if i + 1 < len(body) else ""
        s = line.strip()
        if (s and _UNDERLINE.match(nxt) and not _UNDERLINE.match(line)
                and not line[:1].isspace() and text_header(s) is None
                and abs(len(nxt.strip()) - len(s)) <= 3 and len(s) < 80):
            page.blocks.extend(text_blocks(chunk))
            chunk = []
            major = nxt.strip().startswith("=") or heading_kind(s) in LEVEL1_KINDS
            depth = 1 if major else 2
            page.blocks.append(Heading(s, depth=depth))
            i += 2
            continue
        chunk.append(line)
        i += 1
    page.blocks.extend(text_blocks(chunk))
    if footer:
        m = re.search(r"^Keywords\s*:(.*)$", "\n".join(footer), re.M)
        if m and not page.keywords:
            page.keywords = m.group(1).split()
    url_kb, url_lang = kb_from_url(url)
    return assemble(page, "ftp-txt", url_kb=url_kb, url_lang=url_lang)
