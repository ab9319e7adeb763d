"""KB ids and the URLs they lived at: parsing ids and ranges, URL forms both ways.

Every address a KB article had on support.microsoft.com is normalised here to
``(kb_id, language)``; the CDX queries that cover an id (or a block of ids) are built here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from kbharvest.errors import InputError

#: KB ids are positive and (so far) at most 7 digits; 8 leaves room and keeps queries sane.
MAX_KB_ID = 99_999_999
#: One ``fetch`` accepts at most this many ids from ranges (a typo guard, not a policy).
MAX_RANGE = 1_000_000

HOST = "support.microsoft.com"
_HOSTS = {"support.microsoft.com", "support.microsoft.com.", "www.support.microsoft.com"}

#: Languages ``--lang all`` asks for in the per-language URL forms (``/kb/N/<lang>`` forms
#: need no list: the ``/kb/N`` prefix covers them all).
LANGUAGES = (
    "en-us", "en-gb", "de-de", "fr-fr", "es-es", "it-it", "ja-jp", "ko-kr", "zh-cn", "zh-tw",
    "pt-br", "nl-nl", "sv-se", "ru-ru", "pl-pl", "de", "fr", "es", "it", "ja",
)

_LANG_RE = re.compile(r"^[a-z]{2}(?:-[a-z]{2,4})?$")
_ID_RE = re.compile(r"^\s*(?:kb|q)?\s*0*(\d{1,8})\s*$", re.IGNORECASE)


def parse_kb_id(text: str) -> int:
    """``"977153"``, ``"KB977153"``, ``"Q123456"`` → the int id; InputError otherwise."""
    m = _ID_RE.match(text)
    if not m or not 0 < int(m.group(1)) <= MAX_KB_ID:
        raise InputError(text, "not a KB id (expected e.g. 977153, KB977153 or Q123456)")
    return int(m.group(1))


@dataclass(frozen=True, order=True)
class IdRange:
    """An inclusive range of KB ids (a single id is a range of one)."""

    lo: int
    hi: int

    def __contains__(self, kb_id: object) -> bool:
        return isinstance(kb_id, int) and self.lo <= kb_id <= self.hi

    def __len__(self) -> int:
        return self.hi - self.lo + 1


def parse_id_spec(spec: str) -> IdRange:
    """``"977153"`` or ``"2000000-2000100"`` (either end may carry KB/Q) → IdRange."""
    parts = spec.split("-")
    if len(parts) == 1:
        n = parse_kb_id(parts[0])
        return IdRange(n, n)
    if len(parts) != 2:
        raise InputError(spec, "not a KB id or range (expected e.g. 2000000-2000100)")
    lo, hi = parse_kb_id(parts[0]), parse_kb_id(parts[1])
    if hi < lo:
        raise InputError(spec, "range runs backwards")
    if hi - lo + 1 > MAX_RANGE:
        raise InputError(spec, f"range holds more than {MAX_RANGE} ids")
    return IdRange(lo, hi)


def parse_id_file(lines: Iterable[str], name: str = "<file>") -> list[IdRange]:
    """One id or range per line; blank lines and ``#`` comments are skipped."""
    out = []
    for i, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append(parse_id_spec(line))
        except InputError as exc:
            raise InputError(f"{name}:{i}", exc.reason) from exc
    return out


def in_shard(kb_id: int, shard: tuple[int, int] | None) -> bool:
    """Whether ``kb_id`` belongs to shard ``(k, n)`` (1-based k).

    Ids go to shards in blocks of 100 so that a block prefix query (``/kb/20000``) belongs
    to exactly one shard.
    """
    if shard is None:
        return True
    k, n = shard
    return (kb_id // 100) % n == k - 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``; InputError unless 1 ≤ k ≤ n."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise InputError(text, "shard must be k/n with 1 <= k <= n, e.g. 1/4")
    return int(m.group(1)), int(m.group(2))


# --- URL → (kb_id, language) -----------------------------------------------------------


@dataclass(frozen=True)
class KbUrl:
    """What a support.microsoft.com URL says about the article it shows.

    ``kb_id`` is None for ``/topic/`` pages (the page itself names the article) and
    ``form`` names the URL form (``kb``, ``scid``, ``kbid``, ``help``, ``asp``, ``topic``).
    """

    kb_id: int | None
    language: str | None
    form: str


_ASP_RE = re.compile(r"^/support/kb/articles/q(\d{1,5})/(\d)/(\d{1,3})\.asp$")
_KB_RE = re.compile(r"^(?:/([a-z]{2}(?:-[a-z]{2,4})?))?/kb/(?:q)?(\d{1,8})(?:/([a-z]{2}(?:-[a-z]{2,4})?))?(?:/[^/]*)?/?$")
_HELP_RE = re.compile(r"^(?:/([a-z]{2}(?:-[a-z]{2,4})?))?/help/(\d{1,8})(?:/[^/]*)?/?$")
_TOPIC_RE = re.compile(r"^/([a-z]{2}(?:-[a-z]{2,4})?)/topic/[^/]+$")
_SCID_RE = re.compile(r"^kb;([a-z]{2}(?:-[a-z]{2,4})?);q?(\d{1,8})(?:;.*)?$")


def _strip_host(url: str) -> tuple[str, str, str] | None:
    """(host, lower-cased path, raw query) of a support URL; None for other hosts."""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in _HOSTS:
        return None
    return host, unquote(parts.path).lower() or "/", parts.query


def parse_kb_url(url: str) -> KbUrl | None:
    """Which KB article (and language) a URL shows, or None when it is not an article URL.

    Understands every form in ../shared/DESIGN.md; the number's boundary is checked, so
    ``/kb/9771530`` is 9771530 and never 977153.
    """
    split = _strip_host(url)
    if split is None:
        return None
    _, path, query = split
    if path in ("/", "/default.aspx", "/kb", "/kb/") and query:
        args = {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}
        if "scid" in args:
            m = _SCID_RE.match(args["scid"].strip().lower())
            if m:
                return _mk(int(m.group(2)), m.group(1), "scid")
        if "kbid" in args:
            m = re.fullmatch(r"\s*(?:kb|q)?0*(\d{1,8})\s*", args["kbid"], re.IGNORECASE)
            if m:
                lang = args.get("ln", "").lower() or None
                return _mk(int(m.group(1)), lang if lang and _LANG_RE.match(lang) else None, "kbid")
        return None
    m = _ASP_RE.match(path)
    if m:
        return _mk(int(m.group(1) + m.group(2) + m.group(3)), "en-us", "asp")
    m = _KB_RE.match(path)
    if m:
        return _mk(int(m.group(2)), m.group(1) or m.group(3), "kb")
    m = _HELP_RE.match(path)
    if m:
        return _mk(int(m.group(2)), m.group(1), "help")
    m = _TOPIC_RE.match(path)
    if m:
        return KbUrl(None, m.group(1), "topic")
    return None


def _mk(kb_id: int, lang: str | None, form: str) -> KbUrl | None:
    if not 0 < kb_id <= MAX_KB_ID:
        return None
    return KbUrl(kb_id, lang, form)


def language_matches(lang: str | None, wanted: str | tuple[str, ...]) -> bool:
    """Whether an URL's language is wanted. URLs without a language (``/kb/N``) always are:
    they served the default (English) page."""
    if wanted == "all" or lang is None:
        return True
    return lang in (wanted if isinstance(wanted, tuple) else (wanted,))


_HOME_PATHS = re.compile(
    r"^/(?:default\.aspx|[a-z]{2}(?:-[a-z]{2,4})?/?|[a-z]{2}(?:-[a-z]{2,4})?/default\.aspx"
    r"|home|[a-z]{2}(?:-[a-z]{2,4})?/home)?/?$"
)
_ERROR_PATH = re.compile(r"(?:404error\.aspx|/errorpages?/|/error\.aspx|pagenotfound)", re.I)
_SIGNIN_HOSTS = ("login.live.com", "login.microsoftonline.com", "account.microsoft.com")


def non_article_url_reason(url: str) -> str | None:
    """Why a URL (e.g. the end of a redirect chain) cannot be an article page, or None."""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "malformed URL"
    host = (parts.hostname or "").lower()
    path = unquote(parts.path).lower()
    if any(host == h or host.endswith("." + h) for h in _SIGNIN_HOSTS) or "/signin" in path \
            or "login.aspx" in path:
        return "sign-in page"
    if _ERROR_PATH.search(path + "?" + parts.query):
        return "archived 404 error page"
    if (host in _HOSTS and "locale" in path) or "selectlocale" in parts.query.lower():
        return "locale chooser page"
    if host in _HOSTS and _HOME_PATHS.match(path) and parse_kb_url(url) is None:
        return "redirect to the support home page"
    return None


# --- (kb_id block) → CDX queries -----------------------------------------------------


@dataclass(frozen=True, order=True)
class PrefixQuery:
    """A CDX query: ``url`` with ``matchType``; answers hold rows for other ids too, so
    callers check each row's id with :func:`parse_kb_url` (the number's boundary)."""

    url: str
    match_type: str  # "prefix" or "exact"


def id_prefixes(ranges: Iterable[IdRange], shard: tuple[int, int] | None = None,
                min_block: int = 2) -> Iterator[str]:
    """The prefixes of :func:`id_prefix_targets`, without their id lengths."""
    for prefix, _ in id_prefix_targets(ranges, shard, min_block):
        yield prefix


def id_prefix_targets(ranges: Iterable[IdRange], shard: tuple[int, int] | None = None,
                      min_block: int = 2) -> Iterator[tuple[str, int]]:
    """Decimal prefixes whose queries cover every wanted id, cheaply.

    A 100-id block (``20000`` for 2000000–2000099) becomes one prefix when it holds at
    least ``min_block`` wanted ids: CDX requests are the scarce resource (24/min), and one
    block query of 7-digit ids usually fits in one answer page, so it costs no more than one
    id's query. A block of shorter ids (``2000`` for 200000–200099) also matches the ten
    times as many longer ids after it (2000000–2000999), so it needs five times as many
    wanted ids to pay off. A lone id is its own prefix. (Prefixes match longer numbers too;
    callers check each row's id.)
    Blocks are never coarser than 100 ids so each prefix belongs to one shard. Yields
    ``(prefix, digits)``: the length of the ids the prefix is meant for.
    """
    wanted: dict[int, set[int] | None] = {}  # block → ids (None: the whole block)
    for r in ranges:
        b = r.lo // 100
        while b * 100 <= r.hi:
            lo, hi = max(r.lo, b * 100), min(r.hi, b * 100 + 99)
            if not in_shard(b * 100, shard):
                b += 1
                continue
            if lo == b * 100 and hi == b * 100 + 99 and b > 0:
                wanted[b] = None
            elif wanted.get(b, set()) is not None:
                ids = wanted.setdefault(b, set())
                assert ids is not None
                ids.update(range(lo, hi + 1))
            b += 1
    for b in sorted(wanted):
        ids = wanted[b]
        digits = len(str(b * 100))
        need = min_block if digits >= 7 else 5 * min_block
        if ids is None or (len(ids) >= need and b > 0):
            yield str(b), digits
        else:
            yield from ((str(i), len(str(i))) for i in sorted(ids))


def queries_for_prefix(prefix: str, lang: str | tuple[str, ...] = "en-us",
                       digits: int | None = None) -> list[PrefixQuery]:
    """Every CDX query needed to find captures of ids starting with ``prefix``.

    ``prefix`` is a whole id or an id prefix (a block); the empty prefix enumerates every
    id (``--discover``). ``lang`` is one language, a tuple of them, or ``"all"``.
    ``digits`` (the length of the ids meant) leaves out the 1990s form for ids it cannot have.
    """
    langs = LANGUAGES if lang == "all" else (lang if isinstance(lang, tuple) else (lang,))
    q = [
        PrefixQuery(f"{HOST}/kb/{prefix}", "prefix"),  # /kb/N, /kb/N/<lang>, /kb/N/<lang>/…
        PrefixQuery(f"{HOST}/?kbid={prefix}", "prefix"),
        PrefixQuery(f"{HOST}/default.aspx?kbid={prefix}", "prefix"),
        PrefixQuery(f"{HOST}/help/{prefix}", "prefix"),
    ]
    for lg in langs:
        q += [
            # urlkeys are lower-cased, so one query covers SCID=KB;EN-US;Q… variants too
            PrefixQuery(f"{HOST}/default.aspx?scid=kb;{lg};{prefix}", "prefix"),
            PrefixQuery(f"{HOST}/default.aspx?scid=kb;{lg};q{prefix}", "prefix"),
            PrefixQuery(f"{HOST}/{lg}/kb/{prefix}", "prefix"),
            PrefixQuery(f"{HOST}/{lg}/help/{prefix}", "prefix"),
        ]
    asp = _asp_prefix(prefix) if digits is None or digits <= 6 else None
    if asp is not None:
        q.append(PrefixQuery(f"{HOST}/support/kb/articles/{asp}", "prefix"))
    return q


def topic_queries(lang: str | tuple[str, ...] = "en-us") -> list[PrefixQuery]:
    """Prefix queries enumerating ``/<lang>/topic/`` pages (``--discover`` only)."""
    langs = LANGUAGES if lang == "all" else (lang if isinstance(lang, tuple) else (lang,))
    return [PrefixQuery(f"{HOST}/{lg}/topic/", "prefix") for lg in langs]


def _asp_prefix(prefix: str) -> str | None:
    # 1990s form: Q189170 → /support/kb/articles/Q189/1/70.asp (first 3 digits / 1 / rest);
    # only ids up to 6 digits had it. A short prefix maps onto the folder it falls in.
    if len(prefix) > 6:
        return None
    if len(prefix) == 6:
        return f"q{prefix[:3]}/{prefix[3]}/{prefix[4:]}.asp"
    if len(prefix) >= 4:
        return f"q{prefix[:3]}/{prefix[3]}/{prefix[4:]}"
    return f"q{prefix}"


def asp_url(kb_id: int) -> str | None:
    """The 1990s ``/support/kb/articles/Qnnn/n/nn.asp`` address of a 6-digit id."""
    s = str(kb_id)
    if len(s) != 6:
        return None
    return f"{HOST}/support/kb/articles/Q{s[:3]}/{s[3]}/{s[4:]}.asp"
