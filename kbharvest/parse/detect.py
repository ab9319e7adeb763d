"""Which page template a document uses, decided from its content alone; and which
readable documents are not KB articles at all (error pages, soft 404s, sign-in pages)."""

from __future__ import annotations

import re

from kbharvest.parse import ftptext, html, markdown

_TAG = re.compile(r"<(?:p|div|h[1-6]|br|table|tr|td|li|ul|span|a|b|font|html|body)\b", re.I)


def detect_template(text: str) -> str:
    """Name of the template that reads ``text``: one of ftp-txt, ftp-htm, topic, help,
    kb-2010, kb-classic, markdown, html, text."""
    if ftptext.looks_like(text):
        return "ftp-txt"
    found = html.detect(text)
    if found:
        return found
    head = text[:20000]
    tags = len(_TAG.findall(head))
    htmlish = bool(re.match(r"\s*(?:<!doctype html|<html|<\?xml)", head, re.I)) or tags >= 8
    atx = len(re.findall(r"^#{1,6} \S", head, re.M))
    if markdown.looks_like(text) and not (htmlish and tags > 4 * max(atx, 1)):
        return "markdown"
    if htmlish:
        return "html"
    return "text"


_ARCHIVE_ERROR = re.compile(
    r"Wayback Machine has not archived that URL|This URL has been excluded from the Wayback|"
    r"Got an HTTP \d{3} response at crawl time|Hrm\.\s*The Wayback Machine|"
    r"Wayback Machine doesn't have that page archived|This snapshot cannot be displayed|"
    r"<title>\s*Wayback Machine\s*</title>", re.I)
_NOT_FOUND = re.compile(
    r"404Error\.aspx|<title>[^<]{0,80}(?:page not found|404|cannot be found|not found)[^<]{0,80}"
    r"</title>|We'?re sorry,? (?:but )?the page you (?:requested|are looking for)|"
    r"The page you (?:requested|are looking for) (?:cannot|could not|can't) be found|"
    r"This article is no longer available|Die angeforderte Seite wurde nicht gefunden|"
    r"^\s*404\s*(?:-|–)?\s*(?:Not Found|File or directory not found)", re.I | re.M)
_SIGN_IN = re.compile(
    r"<title>\s*Sign in[^<]*</title>|login\.live\.com/login\.srf|"
    r"login\.microsoftonline\.com/common/oauth2|Sign in to your (?:Microsoft )?account", re.I)
_ARTICLE_MARKERS = re.compile(
    r"loadTOCNode\s*\(\s*\d|\bSYMPTOMS\b|\bCAUSE\b|\bRESOLUTION\b|"
    r"Article ID:\s*\d+\s*-\s*Last Review|_Original KB number|^DOCUMENT:", re.M)


def reject_reason(text: str, template: str) -> str | None:
    """Why a readable page is not a KB article, or None when it may be one."""
    # error, 404 and sign-in pages are small and say so early: 12 KB is plenty
    head = text[:12000]
    if _ARTICLE_MARKERS.search(head):
        return None
    if _ARCHIVE_ERROR.search(head):
        return "archive error page, not a capture of the article"
    if _NOT_FOUND.search(head):
        return "page not found (soft 404)"
    if _SIGN_IN.search(head):
        return "sign-in page, not an article"
    return None
