"""The KB id and language a page's address carries (when the page itself does not say)."""

from __future__ import annotations

import re

_PATTERNS = [
    re.compile(r"/kb/articles/q(\d{3})/(\d)/(\d{2})\.asp", re.I),  # 1990s: Q189/1/70 → 189170
    re.compile(r"/MISC/KB/[a-z-]+/(\d{1,4})/(\d{3})\.HTM", re.I),  # ftp: /295/413.HTM
    re.compile(r"(?:/kb/|/help/|[?&;]kbid=|[?&]id=|scid=kb;[a-z]{2}(?:-[a-z]{2,4})?;q?|"
               r"Microsoft_KB_Archive(?:/|%2F))(\d{3,8})\b", re.I),
    re.compile(r"kbalertz\.com/(\d{5,8})/", re.I),
    re.compile(r"/kb/(\d{5,8})\b", re.I),
]
_LANG = re.compile(r"/(?:kb/\d+/)([a-z]{2}(?:-[a-z]{2,4})?)/?(?:$|[?#])|"
                   r"microsoft\.com/([a-z]{2}-[a-z]{2,4})/|/MISC/KB/([a-z]{2}-[a-z]{2})/|scid=kb;([a-z]{2}-[a-z]{2});", re.I)


def kb_from_url(url: str | None) -> tuple[int | None, str | None]:
    """(kb_id, language) from a KB page address; either may be None."""
    if not url:
        return None, None
    kb = None
    for rx in _PATTERNS:
        m = rx.search(url)
        if m:
            kb = int("".join(m.groups()))
            break
    lang = None
    m = _LANG.search(url)
    if m:
        lang = next(g for g in m.groups() if g).lower()
    return kb, lang
