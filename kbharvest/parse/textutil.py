"""Shared text helpers: whitespace, page chrome, dates, times, sizes and KB references."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from kbharvest.parse.vocab import MONTHS, fold

# Lines that are site chrome wherever they appear (compared after fold()).
_CHROME_LINES = {
    fold(x)
    for x in (
        "Collapse this table", "Expand this table", "Collapse this imageExpand this image",
        "Collapse this image", "Expand this image", "Back to the top", "Back to top",
        "On This Page", "On this page", "Expand all | Collapse all", "Expand all",
        "Collapse all", "Windows Live", "Facebook", "Twitter", "Linkedin", "LinkedIn",
        "Digg it", "Yahoo", "Delicious", "StumbleUpon", "Yammer", "Reddit", "Technorati",
        "FriendFeed", "Email", "Print", "Share", "Google", "MySpace", "Tumblr", "Pinterest",
        "Other Resources Other Support Sites", "Other Resources", "Other Support Sites",
        "CommunityGet Help NowArticle Translations", "Community", "Get Help Now",
        "Article Translations", "Torna all'inizio", "Torna all’inizio", "Nach oben",
        "Zurück zum Anfang", "Retour en haut", "Haut de la page", "Volver al principio",
        "Voltar ao topo", "Início da página", "ページのトップへ", "返回页首", "回到頁首",
        "Auf dieser Seite", "Dans cette page", "In questa pagina", "En esta página",
        "Nesta página", "このページ", "本页", "Alles erweitern | Alles schließen",
        "Développer tout | Réduire tout", "Espandi tutto | Comprimi tutto",
        "Expandir todo | Contraer todo", "Expandir tudo | Recolher tudo",
        "SPRACHE AUSWÄHLEN SPRACHE AUSWÄHLEN", "Select Language", "Help and Support",
        "Microsoft Support", "Did this solve your problem?", "Was this information helpful?",
        "Yes", "No", "Need more help?", "Sign in", "Feedback", "Properties",
        "Article Properties", "Give Feedback", "Print this page", "E-mail this page",
        "Show products that this article applies to", "View products that this article applies to.",
        "Hide", "Show", "Sur cette page", "Réduire ce tableau", "Développer ce tableau",
        "Tabelle reduzieren", "Tabelle erweitern", "Tabelle ausblenden", "Tabelle einblenden",
        "Comprimi tabella", "Espandi tabella", "Comprimi questa tabella",
        "Espandi questa tabella", "Contraer esta tabla", "Expandir esta tabla",
        "Recolher esta tabela", "Expandir esta tabela", "表を折りたたむ", "表を展開する",
        "折叠此表格", "展开此表格", "Diese Tabelle minimieren", "Diese Tabelle maximieren",
    )
}
# Chrome glued into text ("…softwareCollapse this tableExpand this table") is cut out.
_CHROME_INLINE = re.compile(
    r"(?:Collapse this table|Expand this table|Collapse this image|Expand this image|"
    r"Back to the top|Expand all \| Collapse all|Torna all['’]inizio|Réduire ce tableau|"
    r"Développer ce tableau|Tabelle reduzieren|Tabelle erweitern|Comprimi tabella|"
    r"Espandi tabella|Contraer esta tabla|Expandir esta tabla|Diese Tabelle minimieren|"
    r"Diese Tabelle maximieren)",
)
# A KB link's target travels inside the text between these private-use characters, so that
# each section knows which articles it links to; the assembler takes them out of the text.
LINK_OPEN, LINK_CLOSE = "\ue000", "\ue001"
_LINK_MARK = re.compile("\ue000([^\ue000\ue001]*)\ue001")


def mark_link(href: str) -> str:
    """The invisible marker that carries a KB link's target through the text."""
    return f"{LINK_OPEN}{href}{LINK_CLOSE}"


def take_links(text: str) -> tuple[str, list[str]]:
    """Remove link markers from ``text``; return the clean text and the targets."""
    links = _LINK_MARK.findall(text)
    return (_LINK_MARK.sub("", text) if links else text), links


_ZW = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


_SHARE_WORDS = {"share", "facebook", "twitter", "email", "e-mail", "print", "linkedin",
                "digg", "delicious", "reddit", "stumbleupon", "yammer", "tumblr", "|", "copy",
                "link"}


def is_chrome(line: str) -> bool:
    """True when a whole line is page chrome (toggles, share links, back-to-top …)."""
    if len(line) > 64:
        return False  # every chrome line is shorter (the longest is 44); prose is not folded
    key = fold(line)
    if not key or key in _CHROME_LINES or re.fullmatch(r"[|\s]+", line):
        return True
    words = key.split()
    return len(words) >= 3 and all(w in _SHARE_WORDS for w in words)


def strip_chrome(text: str) -> str:
    """Remove inline chrome phrases from a line of text."""
    # every phrase holds "ab" (table, tableau, tabla, Tabelle), "top", "inizio" or "all"
    if "ab" not in text and "top" not in text and "inizio" not in text and "all" not in text:
        return text
    return _CHROME_INLINE.sub(" ", text)


def clean_ws(text: str) -> str:
    """Collapse runs of spaces inside a line; keep line breaks; trim."""
    if not text.isascii():
        text = _ZW.sub("", text).replace("\xa0", " ")
    return "\n".join(" ".join(ln.split()) for ln in text.split("\n")).strip()


def join_paragraphs(paras: list[str]) -> str:
    """Paragraphs → text with blank lines between them (empty ones dropped)."""
    return "\n\n".join(p for p in (p.strip() for p in paras) if p)


# ---------------------------------------------------------------- dates and times

_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_D_MDY_NAME = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_D_DMY_NAME = re.compile(rf"\b(\d{{1,2}})\.?(?:\s+de)?\s+({_MONTH_RE})\.?(?:\s+de)?,?\s+(\d{{4}})\b",
                         re.I)
_D_DMY_DASH = re.compile(rf"\b(\d{{1,2}})-({_MONTH_RE})-(\d{{2,4}})\b", re.I)
_D_ISO = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_D_NUM = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")
_D_CJK = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def _year(y: str) -> int:
    n = int(y)
    if len(y) == 2:
        n += 1900 if n >= 70 else 2000
    return n


def _mk(y: int, m: int, d: int) -> dt.date | None:
    try:
        if not 1980 <= y <= 2100:
            # KB dates start in the 1980s; anything else is a misread
            return None
        return dt.date(y, m, d)
    except ValueError:
        return None


@lru_cache(maxsize=8192)  # file tables repeat the same dates, times and sizes
def parse_date(text: str, dayfirst: bool = False) -> dt.date | None:
    """Find the first date in ``text`` (many languages and numeric forms) → date."""
    if not text:
        return None
    text = text.replace("\xa0", " ")
    for rx, order in ((_D_CJK, "ymd"), (_D_ISO, "ymd"), (_D_MDY_NAME, "mdy"),
                      (_D_DMY_NAME, "dmy"), (_D_DMY_DASH, "dmy")):
        m = rx.search(text)
        if not m:
            continue
        a, b, c = m.groups()
        if order == "ymd":
            return _mk(int(a), int(b), int(c))
        if order == "mdy":
            return _mk(_year(c), MONTHS[a.lower().rstrip(".")], int(b))
        return _mk(_year(c), MONTHS[b.lower().rstrip(".")], int(a))
    m = _D_NUM.search(text)
    if m:
        a, b, c = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        if a > 12 or (dayfirst and b <= 12):
            a, b = b, a
        return _mk(c, a, b)
    return None


_TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})(?::\d{2})?\s*([ap])?\.?\s*(?:m\b\.?)?", re.I)


@lru_cache(maxsize=8192)
def parse_time(text: str) -> str | None:
    """'07:10p' → '19:10', '7:05 AM' → '07:05', '15:51' → '15:51'."""
    if not text:
        return None
    m = _TIME.search(text)
    if not m:
        return None
    h, mi, ap = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower()
    if ap == "p" and h < 12:
        h += 12
    elif ap == "a" and h == 12:
        h = 0
    if h > 23 or mi > 59:
        return None
    return f"{h:02d}:{mi:02d}"


@lru_cache(maxsize=8192)
def parse_size(text: str) -> int | None:
    """'1,234,567' / '1.234.567' / '1 234 567' → 1234567; None when not a plain size."""
    if not text:
        return None
    t = text.strip().replace("\xa0", " ")
    t = re.sub(r"\s*bytes?$", "", t, flags=re.I)
    if not re.fullmatch(r"\d{1,3}(?:[,. ]\d{3})+|\d+", t):
        return None
    return int(re.sub(r"[,. ]", "", t))


# ---------------------------------------------------------------- KB references

_KB_URL = re.compile(
    r"(?:/kb/|/help/|[?&;]kbid=|scid=kb;[a-z-]+;|/default\.aspx\?id=|/kb/q|kb;[a-z-]+;q?)"
    r"(\d{5,8})\b", re.I)
KB_LINK = re.compile(r"(?:support\.microsoft\.com|^)/?(?:[a-z]{2}-[a-z]{2}/)?(?:kb|help)/(\d{5,8})\b|"
                     r"kbid=(\d{5,8})|scid=kb;[a-z-]+;q?(\d{5,8})", re.I)
_KB_WORD = re.compile(r"\b(?:KB|Q)(\d{5,7})\b")
_ARTICLE_WORDS = re.compile(
    r"article|Knowledge Base|artikel|articolo|art[ií]culo|artigo", re.I)
_SIX_DIGITS = re.compile(r"\d{6}")
_UNITS = r"(?!\s*(?:bytes?|[KMG]B|items?|rows?|records?|files?|entries|objects|users|ms|seconds)\b)"
_NUMBER = re.compile(r"(?<![\d.,])(\d{6,7})\b(?![.,]\d)" + _UNITS, re.I)


def _last_article_word(text: str) -> int:
    """Index just past the last article word in ``text``."""
    end = 0
    for m in _ARTICLE_WORDS.finditer(text):
        end = m.end()
    return end


_LINE_NUMBER = re.compile(r"^\s*[-•*]?\s*\[?(\d{6,7})\]?" + _UNITS + r"(?:\s|\(|$)",
                          re.M | re.I)


def kb_refs_in(text: str, links: list[str] | None = None) -> set[int]:
    """KB ids a text refers to: KB123456, Q123456, KB URLs, 'article number N', and lines
    that start with a bare article number (as the 'click the following article number'
    lists print them)."""
    found: set[int] = set()
    low = text.lower()
    if "kb" in low or "/help/" in low:
        for m in _KB_URL.finditer(text):
            found.add(int(m.group(1)))
    if "KB" in text or "Q" in text:
        for m in _KB_WORD.finditer(text):
            found.add(int(m.group(1)))
    if not _SIX_DIGITS.search(text):
        return _links_refs(found, links)
    # "article number … 935791": find the numbers first (rare), then look back for the words
    for m in _NUMBER.finditer(text):
        if _ARTICLE_WORDS.search(text, max(0, m.start() - 160), m.start()):
            between = text[max(0, m.start() - 160):m.start()]
            tail = between[_last_article_word(between):]
            if not re.search(r"\d", tail):
                found.add(int(m.group(1)))
    for m in _LINE_NUMBER.finditer(text):
        found.add(int(m.group(1)))
    return _links_refs(found, links)


def _links_refs(found: set[int], links: list[str] | None) -> set[int]:
    for link in links or ():
        m = _KB_URL.search(link)
        if m:
            found.add(int(m.group(1)))
    return {n for n in found if n >= 1000}


_BARE_NUMBER = re.compile(r"(?<![\d.,:/\-])(\d{6,7})(?![\d.,/\-]\d)")


def bare_numbers(text: str) -> set[int]:
    """6–7 digit numbers standing alone (not parts of versions, sizes or dates): in a
    replacement or prerequisites section these are KB article numbers."""
    return {int(m.group(1)) for m in _BARE_NUMBER.finditer(text)}
