"""The templates' common output (headings, paragraphs, tables, page facts) and the one
assembler that turns it into an Article: sections, convenience texts, hotfix fields."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from kbharvest.models import (
    Article,
    FileRow,
    FileTable,
    Prerequisites,
    Replacement,
    Restart,
    Section,
)
from kbharvest.parse.filetables import (
    architecture_of,
    is_file_name,
    is_property_table,
    looks_like_file_header,
    make_row,
    property_rows,
)
from kbharvest.parse.textutil import (
    bare_numbers,
    clean_ws,
    is_chrome,
    join_paragraphs,
    kb_refs_in,
    take_links,
)
from kbharvest.parse.vocab import CHROME_HEADINGS, LEVEL1_KINDS, LEVEL2_KINDS, fold, heading_kind


@dataclass
class Heading:
    text: str
    depth: int = 1  # the page's own nesting (h2=1, h3=2 …), used for unknown headings
    kind: str | None = None  # known from markup (loadTOCNode), else from the words


@dataclass
class Para:
    text: str


@dataclass
class Table:
    rows: list[list[str]]
    caption: str | None = None
    missing: bool = False  # the page kept only the caption
    file_rows: list[FileRow] | None = None  # already parsed (text tables)


@dataclass
class Page:
    """What a template read off a page, before assembly."""

    blocks: list = field(default_factory=list)
    kb_id: int | None = None
    title: str | None = None
    language: str | None = None
    last_review: dt.date | None = None
    revision: str | None = None
    applies_to: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


CONVENIENCE = ("symptoms", "cause", "resolution", "workaround", "status", "more_information")
_FILE_CONTEXT = {"file_information", "hotfix_information", "resolution", "more_information"}


_APPLIES_LEAD = re.compile(
    r"^(The information in this article applies to|Die Informationen in diesem Artikel beziehen "
    r"sich auf|Le informazioni in questo articolo si applicano a|La información de este "
    r"artículo se refiere a|Les informations contenues dans cet article s'appliquent)[^:\n]*:?\s*",
    re.I)


def _split_applies_to(blocks: list, applies: list[str]) -> list:
    """'The information in this article applies to: …' at the top of old pages is the
    applies-to list, though no heading says so: its items go to ``applies``."""
    out: list = []
    taking = False
    for b in blocks:
        if isinstance(b, Para) and (m := _APPLIES_LEAD.match(b.text)):
            rest = b.text[m.end():].strip()
            applies.extend(ln.strip(" •*-|\t") for ln in rest.split("\n"))
            taking = not rest  # the list follows in paragraphs of its own
            continue
        if taking and isinstance(b, Para) and all(
                len(ln) < 150 and not ln.rstrip().endswith(".") for ln in b.text.split("\n")):
            applies.extend(ln.strip(" •*-|\t") for ln in b.text.split("\n"))
            continue
        taking = False
        out.append(b)
    return out


def _table_file_groups(table: Table) -> list[tuple[str | None, list[FileRow]]] | None:
    """The file tables inside ``table`` as (caption, rows), or None when it lists no files.

    One HTML table can hold several: a row whose only cell is a caption ("Windows Vista,
    x64-based versions") starts the next one."""
    if table.file_rows is not None:
        return [(table.caption, table.file_rows)]
    rows = [r for r in table.rows if any(c.strip() for c in r)]
    if not rows:
        return None
    if is_property_table(rows):
        return [(table.caption, property_rows(rows))]
    for i, r in enumerate(rows[:3]):
        if looks_like_file_header(r):
            groups: list[tuple[str | None, list[FileRow]]] = [(table.caption, [])]
            for cells in rows[i + 1:]:
                if looks_like_file_header(cells):
                    continue
                filled = [c for c in cells if c.strip()]
                if len(filled) == 1 and not is_file_name(filled[0]):
                    groups.append((filled[0], []))
                    continue
                row = make_row(r, cells)
                if row:
                    groups[-1][1].append(row)
            if len(groups) > 1 and not groups[0][1]:
                groups.pop(0)  # the first caption row came before any file
            return groups
    return None


def _table_text(table: Table) -> str:
    lines = [" | ".join(c.strip() for c in r) for r in table.rows if any(c.strip() for c in r)]
    if table.caption:
        lines.insert(0, table.caption)
    return "\n".join(lines)


def _level(depth: int, top: int) -> int:
    # The page's own nesting decides: headings at the depth of its main headings are
    # level 1 (a top-level "Hotfix information" too), anything deeper is level 2.
    return 1 if depth <= top else 2


def assemble(page: Page, template: str, url_kb: int | None = None,
             url_lang: str | None = None) -> Article:
    """Turn a Page into a validated Article (raises pydantic.ValidationError)."""
    headings = [b for b in page.blocks if isinstance(b, Heading)]
    top_depths = [h.depth for h in headings
                  if (h.kind or heading_kind(h.text) or "other") in LEVEL1_KINDS]
    if not top_depths:
        # an excerpt that starts inside a section ("Hotfix information", "Prerequisites"):
        # sub-heading kinds stay level 2
        top_depths = [h.depth for h in headings
                      if (h.kind or heading_kind(h.text) or "other") not in LEVEL2_KINDS] or [1]
    top = min(top_depths)

    sections: list[dict] = []
    current: dict | None = None
    file_tables: list[FileTable] = []
    warnings = list(page.warnings)

    def open_section(kind: str, level: int, heading: str) -> dict:
        sec = {"kind": kind, "level": level, "heading": heading, "parts": []}
        sections.append(sec)
        return sec

    skipping = False
    lead_applies: list[str] = []
    for block in _split_applies_to(page.blocks, lead_applies):
        if isinstance(block, Heading):
            skipping = fold(block.text) in CHROME_HEADINGS
            if skipping:
                continue
            kind = block.kind or heading_kind(block.text) or "other"
            # the applies-to list and the keywords belong to the page, never inside a section
            level = 1 if kind in ("applies_to", "keywords") else _level(block.depth, top)
            current = open_section(kind, level, clean_ws(block.text))
            continue
        if skipping:
            continue
        if current is None:
            current = open_section("other", 1, "")
        if isinstance(block, Para):
            text = clean_ws(block.text)
            if text:
                current["parts"].append(text)
        elif isinstance(block, Table):
            groups = None if block.missing else _table_file_groups(block)
            is_file = block.missing or groups is not None
            if block.missing and current["kind"] not in _FILE_CONTEXT and not re.search(
                    r"\bfor all supported\b|\bfiles?\b|based versions", block.caption or "", re.I):
                is_file = False
            if is_file:
                for caption, rows in groups or [(block.caption, [])]:
                    if not caption and current["level"] == 2 and current["kind"] == "other":
                        # a table right under a product sub-heading ("Windows NT 4.0") is
                        # that product's table
                        caption = current["heading"] or None
                    file_tables.append(FileTable(
                        caption=clean_ws(take_links(caption)[0]) if caption else None,
                        architecture=architecture_of(caption),
                        rows=rows,
                        rows_missing=block.missing,
                    ))
                    if caption and caption != current["heading"]:
                        current["parts"].append(clean_ws(take_links(caption)[0]))
            else:
                text = clean_ws(_table_text(block))
                if text:
                    current["parts"].append(text)

    out_sections = []
    section_links: list[list[str]] = []
    for s in sections:
        if not (s["heading"] or s["parts"]):
            continue
        text, links = take_links(join_paragraphs(s["parts"]))
        heading, hlinks = take_links(s["heading"])
        out_sections.append(Section(kind=s["kind"], level=s["level"], heading=heading,
                                    text=clean_ws(text) if links else text))
        section_links.append(links + hlinks)

    conv: dict[str, str | None] = {}
    for kind in CONVENIENCE:
        chunks: list[str] = []
        inside = False
        for s in out_sections:
            if s.level == 1:
                inside = s.kind == kind
                if inside and s.text:
                    chunks.append(s.text)
            elif inside:
                chunks.append(f"{s.heading}\n{s.text}".strip())
        conv[kind] = join_paragraphs(chunks) or None

    def first(kind: str) -> Section | None:
        return next((s for s in out_sections if s.kind == kind), None)

    def links_of(sec: Section) -> list[str]:
        return section_links[out_sections.index(sec)]

    prereq = None
    if (s := first("prerequisites")) is not None:
        refs = kb_refs_in(s.text, links_of(s)) | bare_numbers(s.text)
        prereq = Prerequisites(text=s.text, requirements=requirements_in(s.text),
                               kb_refs=sorted(refs - {page.kb_id or url_kb or 0}))
    restart = None
    if (s := first("restart_requirement")) is not None:
        restart = Restart(requirement=restart_requirement(s.text), text=s.text)
    replacement = None
    if (s := first("hotfix_replacement")) is not None:
        replaces = replaced_ids(s.text, page.kb_id or url_kb)
        if replaces or not _NO_REPLACE.search(fold(s.text)):
            replaces = sorted(set(replaces) | (kb_refs_in("", links_of(s))
                                               - {page.kb_id or url_kb or 0}))
        replacement = Replacement(replaces=replaces, text=s.text)

    page.title = take_links(page.title)[0] if page.title else page.title
    all_text = "\n".join([page.title or ""]
                         + [s.heading + "\n" + s.text for s in out_sections])
    kb_id = page.kb_id or url_kb or _kb_from_mentions(page.title or "", all_text, warnings)
    if not kb_id:
        raise ValueError("no KB id found in the page or its address")
    # links count where they stand: a KB link in a skipped chrome section is no reference
    refs = kb_refs_in(all_text, [link for links in section_links for link in links]) - {kb_id}
    # ids the hotfix fields found (bare numbers in those sections) are references too
    refs |= set(prereq.kb_refs if prereq else ()) | set(replacement.replaces if replacement else ())
    refs.discard(kb_id)

    applies = page.applies_to or [a for a in lead_applies if a]
    if not applies and (s := first("applies_to")) is not None:
        applies = [ln.strip(" •*-|\t") for ln in s.text.split("\n")]
        applies = [a for a in applies if a and not is_chrome(a)
                   and not re.match(r"(?:This article was previously published|kb\w+\s)", a)]

    keywords = page.keywords
    if not keywords and (s := first("keywords")) is not None:
        keywords = [w for w in re.split(r"[\s,;]+", s.text) if re.match(r"^kb\w+$", w, re.I)]
    if not out_sections:
        warnings.append("no sections recognised")
    return Article(
        kb_id=kb_id,
        title=page.title or None,
        language=page.language or url_lang,
        last_review=page.last_review,
        revision=page.revision,
        template=template,
        sections=out_sections,
        **conv,
        prerequisites=prereq,
        restart=restart,
        replacement=replacement,
        file_tables=file_tables,
        kb_refs=sorted(refs),
        applies_to=_dedupe(applies),
        keywords=_dedupe(keywords),
        warnings=warnings,
    )


def _kb_from_mentions(title: str, text: str, warnings: list[str]) -> int | None:
    """Last resort for pages that do not state their number: 'KB5002880' in the title, or
    a KB number the text names far more often than any other."""
    m = re.search(r"\bKB\s?(\d{6,7})\b", title)
    if m:
        return int(m.group(1))
    counts: dict[int, int] = {}
    for m in re.finditer(r"\bKB(\d{6,7})\b", text):
        counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if ranked and ranked[0][1] >= 3 and (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]):
        warnings.append(f"KB id {ranked[0][0]} inferred from its mentions in the text")
        return ranked[0][0]
    return None


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for it in items:
        it = it.strip()
        if it and it not in seen:
            seen.add(it)
            out.append(it)
    return out


# ------------------------------------------------------------ hotfix fields from text

_RESTART_WORD = re.compile(r"restart|reboot|neu start|neustart|riavvi|redemarr|reinici|再起動|重新启动",
                           re.I)


def restart_requirement(text: str) -> str:
    """Classify a restart-requirement text by its first sentence about restarting (later
    ones are asides: "If you are prompted to restart, click Yes")."""
    t = fold(text)
    for sentence in re.split(r"(?<=[.!?。])\s+", t):
        if _RESTART_WORD.search(sentence):
            t = sentence
            break
    if re.search(r"\b(may|might|could) (have to|need to|be required to|require)|"
                 r"\bmay be required\b|\bif\b.{0,80}\b(restart|reboot)|"
                 r"moglicherweise|potrebbe essere necessario|vous devrez peut-etre|"
                 r"il (se peut|est possible) que vous (deviez|devrez)|"
                 r"puede que (tenga|sea)|es posible que (tenga|deba)|talvez seja|"
                 r"pode ser necessario reiniciar|必要がある場合|可能需要重新启动", t):
        return "may_be_required"
    if re.search(r"\b(do not|don't|does not|doesn't|not) (have to|need to|required?|"
                 r"requires?)\b.{0,40}\b(restart|reboot)|"
                 r"\b(restart|reboot)\b.{0,30}\bnot (required|necessary|needed)|"
                 r"\bno (restart|reboot)|without (restarting|a restart)|"
                 r"kein neustart|nicht neu (starten|gestartet)|non e necessario riavviare|"
                 r"n'est pas necessaire de redemarrer|ne (pas|devez pas) redemarrer|"
                 r"muss nicht neu gestartet|mussen den computer nicht neu starten|"
                 r"n'avez pas (a|besoin de) redemarrer|no es necesario reiniciar|"
                 r"nao e necessario reiniciar|再起動する必要はありません|不需要重新启动", t):
        return "not_required"
    if re.search(r"\b(must|have to|need to|will need to|requires?|required to|is required)\b"
                 r".{0,60}\b(restart|reboot)|\b(restart|reboot)\b.{0,30}\brequired|"
                 r"mussen sie den computer neu starten|neu starten|e necessario riavviare|"
                 r"devez redemarrer|debe reiniciar|deve reiniciar|再起動する必要があります|"
                 r"必须重新启动", t):
        return "required"
    return "unknown"


_NO_REPLACE = re.compile(
    r"does not replace|doesn't replace|not replace any|no (other )?hotfix(es)? (is|are) "
    r"replaced|ersetzt keine|non sostituisce|ne remplace aucun|no reemplaza|nao substitui|"
    r"置き換えません|置き換えるものではありません|不替换|不会替换", re.I)


def replaced_ids(text: str, own: int | None) -> list[int]:
    """KB ids a hotfix-replacement text says are superseded ([] for 'does not replace')."""
    if _NO_REPLACE.search(fold(text)):
        return []  # numbers there belong to "for more information" sentences: kb_refs
    return sorted((kb_refs_in(text) | bare_numbers(text)) - {own or 0})


_TRIGGER = re.compile(
    r"(?:must be running|(?:that|which) (?:is|are) running|must have|must be using|must install|must first install|"
    r"must apply|must be installed|requires?|need to (?:have|install|be running)|"
    r"to be installed|installed:)\s+(?:(?:one of )?the following(?: [a-z ]+)?:?|"
    r"(?:either\s+)?)", re.I)
_PRODUCTISH = re.compile(
    r"Windows|Service Pack|\bSP\d|Server|Office|Exchange|SQL|\.NET|Update|Visual|Studio|"
    r"Internet Explorer|Outlook|SharePoint|BizTalk|Message Queuing|Dynamics|System Center|"
    r"Lync|Skype|Framework|Rollup|\d", re.I)
_NO_PREREQ = re.compile(r"no prerequisites|there are no prerequisite|not have any prerequisite|"
                        r"keine voraussetzungen|nessun prerequisito|aucune condition|"
                        r"no hay requisitos|nao ha pre|前提条件はありません", re.I)


def _split_products(phrase: str) -> list[str]:
    phrase = re.sub(r"\s+", " ", phrase).strip(" .;:")
    phrase = re.sub(r"\s+installed\b.*$", "", phrase)
    phrase = re.sub(r"\s+(?:installed|on (?:the|your) (?:computer|server|system)|"
                    r"installed on (?:the|your|each) [a-z ]+|before you (?:apply|install) .*|"
                    r"to (?:apply|install) this (?:hotfix|update).*|in order to .*)$", "",
                    phrase, flags=re.I)
    parts = re.split(r",\s*(?:or|and)\s+|\s+or\s+|,\s+|\s+and\s+(?=(?:Microsoft\s+)?[A-Z])",
                     phrase)
    out = []
    for p in parts:
        p = re.sub(r"^(?:either|also|the|a|an)\s+", "", p.strip(" .;:"), flags=re.I).strip()
        p = re.sub(r"\s+installed$", "", p)
        if p and p[0].isupper() and _PRODUCTISH.search(p) and len(p) < 120:
            out.append(p)
    return out


_ITEM_END = re.compile(r"\s+(?:For more information|For additional information|Note\b|To apply|"
                       r"To install|Additionally)|\.\s+(?=[A-Z])")


_PRODUCT = re.compile(
    r"(?:Microsoft\s+)?(?:Windows|Exchange(?: Server)?|SQL Server|Office|Visual Studio|"
    r"Internet Explorer|\.NET Framework|SharePoint(?: Server)?|BizTalk Server|Message Queuing|"
    r"Forefront|Dynamics|Lync Server|Skype for Business Server|System Center)"
    r"(?:[ \t]+(?:Server|Vista|XP|Professional|Embedded|Standard|Enterprise|Datacenter|Web|"
    r"Edition|Essentials|Foundation|R2|RT|\d{1,4}(?:\.\d+)*|Update[ \t]+\d+|"
    r"Service[ \t]+Pack[ \t]+\d+|\(SP\d+\)|SP\d+|Cumulative Update \d+))*")
_MORE_INFO = re.compile(r"^(?:For (?:more|additional) information|Weitere Informationen|Per "
                        r"ulteriori informazioni|Pour plus d'informations|Para obtener más|"
                        r"Para obter mais|詳細については|有关)", re.I)


def requirements_in(text: str) -> list[str]:
    """Products/service packs a prerequisites text requires, one string each.

    English sentences are read by their wording ("must be running X or Y"); in any language
    a list introduced by a colon, or else the product names of the first sentence that names
    any, are taken."""
    if _NO_PREREQ.search(fold(text)):
        return []
    lines = [ln.strip() for ln in text.split("\n")]
    found: list[str] = []
    for i, line in enumerate(lines):
        for n, m in enumerate(_TRIGGER.finditer(line)):
            if n == 8:
                break  # a real sentence names its requirements once or twice
            rest = line[m.end():m.end() + 400]
            sentence = re.split(r"(?<=[a-z)0-9])\.(?:\s+(?=[A-Z])|\s*$)", rest, maxsplit=1)[0]
            if sentence.strip() and not sentence.rstrip().endswith(":"):
                found.extend(_split_products(sentence))
            else:
                found.extend(_list_after(lines, i))
    if not found:
        for i, line in enumerate(lines):
            if line.endswith(":") and not _MORE_INFO.match(line):
                found.extend(_list_after(lines, i))
    if not found:
        for line in lines:
            for sentence in re.split(r"(?<=[.;])\s+", line):
                if _MORE_INFO.match(sentence):
                    continue
                names = [m.group(0).strip() for m in _PRODUCT.finditer(sentence)
                         if len(m.group(0).split()) > 1]
                if names:
                    found.extend(names)
                    break
            if found:
                break
    seen: set[str] = set()
    out = []
    for f in found:
        if fold(f) not in seen:
            seen.add(fold(f))
            out.append(f)
    return out


def _list_after(lines: list[str], i: int) -> list[str]:
    """The product list items following line ``i`` (which ends with a colon)."""
    out: list[str] = []
    for nxt in lines[i + 1:]:
        if not nxt:
            continue
        item = nxt.lstrip("-•*· \t").strip()
        if _MORE_INFO.match(item) or re.match(r"(?:Note|To apply|To install|\d{6,7}\b)", item):
            break
        item = _ITEM_END.split(item, maxsplit=1)[0]
        if len(item) > 120 or not _PRODUCTISH.search(item):
            break
        out.extend(_split_products(item) or [item.strip(" .;")])
    return out
