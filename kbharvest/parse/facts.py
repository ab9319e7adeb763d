"""Page facts stated in words, in every language: the article ID, review date and revision
lines ("Article ID: 977153 - Last Review: December 8, 2009 - Revision: 1.0")."""

from __future__ import annotations

import datetime as dt
import re

from kbharvest.parse.textutil import parse_date

_ID_LABELS = (r"Article ID|Artikel-ID|ID dell'articolo|Identificativo articolo|ID articolo|"
              r"ID de l'article|Numéro d'article|Número de artículo|Id\. de artículo|"
              r"ID do artigo|文書番号")
_REVIEW_LABELS = (r"Last Review|Last Reviewed|Last Updated|Article Last Modified on|"
                  r"Letzte Überprüfung|Geändert am|Letzte Aktualisierung|Ultima modifica|"
                  r"Dernière mise à jour|Última revisión|Última revisão|最終更新日")
_REVISION_LABELS = r"Revision|Revisione|Révision|Revisión|Revisão|Version|リビジョン"

_ARTICLE_LINE = re.compile(rf"^\s*(?:{_ID_LABELS})\s*:\s*Q?(\d{{3,8}})\b(.*)$", re.I)
_ID = re.compile(rf"(?:{_ID_LABELS})\s*:?\s*Q?(\d{{3,8}})", re.I)
_REVIEW = re.compile(rf"(?:{_REVIEW_LABELS})\s*:?\s*(.{{4,60}}?)(?:\s+-\s+|\s*$)", re.I | re.M)
_REVISION = re.compile(rf"(?:{_REVISION_LABELS})\s*:\s*(\d+(?:\.\d+)*)", re.I)
REVIEW_LINE = re.compile(rf"^\s*(?:{_REVIEW_LABELS})\s*:?\s*(.+)$", re.I)
# a line of its own saying "Version: 4.0" is more often a product version than a revision
REVISION_LINE = re.compile(r"^\s*(?:Revision|Revisione|Révision|Revisión|Revisão|リビジョン)\s*:\s*"
                           r"(\d+(?:\.\d+)*)\s*$", re.I)


def read_article_line(s: str, dayfirst: bool = False) -> dict | None:
    """'Article ID: 977153 - Last Review: December 8, 2009 - Revision: 1.0 <title>' → facts.

    ``rest`` is what follows the revision on the same line (often the glued title)."""
    m = _ARTICLE_LINE.match(s)
    if not m:
        return None
    out: dict = {"kb_id": int(m.group(1))}
    rest = m.group(2)
    rm = _REVIEW.search(rest)
    if rm:
        out["last_review"] = parse_date(rm.group(1), dayfirst=dayfirst)
    vm = _REVISION.search(rest)
    if vm:
        out["revision"] = vm.group(1)
        out["rest"] = rest[vm.end():]
    return out


def read_properties(text: str, dayfirst: bool = False) -> tuple[int | None, dt.date | None,
                                                                 str | None]:
    """(kb_id, last_review, revision) from a property box, its labels on their own lines or
    not ("Identificativo articolo : 278316 / Ultima modifica : martedì 18 ottobre 2005")."""
    flat = re.sub(r"\s*\n\s*:?\s*", " ", text)
    m = _ID.search(flat)
    r = _REVIEW.search(flat)
    v = re.search(rf"(?:{_REVISION_LABELS})\s*:?\s*(\d+(?:\.\d+)*)", flat, re.I)
    return (int(m.group(1)) if m else None,
            parse_date(r.group(1), dayfirst=dayfirst) if r else None,
            v.group(1) if v else None)
