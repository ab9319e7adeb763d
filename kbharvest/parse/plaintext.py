"""Plain-text body → blocks: paragraphs, fixed-width and pipe tables, caption-only tables.

Shared by the text templates (1990s FTP text, flattened pages, markdown code blocks)."""

from __future__ import annotations

import re

from kbharvest.parse.blocks import Para, Table
from kbharvest.parse.filetables import one_line_row, text_header, text_row
from kbharvest.parse.textutil import is_chrome, strip_chrome

_RULER = re.compile(r"^[ \t]*[-=_][-=_ \t]*$")  # and three of them: see _is_ruler
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CAPTION_TOGGLE = re.compile(r"\s*(?:Collapse this table|Expand this table)+\s*$")
_CAPTION_WORDS = re.compile(
    r"^(?:For all supported|Additional files for|For (?:the )?(?:x86|x64|IA-64|Itanium|ARM)|"
    r"Windows .{0,80}(?:edition|editions|versions|x86|x64|IA-64|32-bit|64-bit)\s*$)", re.I)


_DATED_ROW = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\s+\d{1,2}:\d{2}")


def _unparen(row):
    """'(Intel)' in the platform column of old rows is the platform 'Intel'."""
    if row.platform and re.fullmatch(r"\(([^()]+)\)", row.platform):
        return row.model_copy(update={"platform": row.platform[1:-1]})
    return row


_BULLET = re.compile(r"^[-*•·]\s+")


def _is_caption(line: str) -> bool:
    """A short line naming the table below it ('For all supported x64-based versions …')."""
    text = _BULLET.sub("", line.strip())
    return len(text) < 200 and bool(_CAPTION_WORDS.search(text))


def _is_ruler(line: str) -> bool:
    return bool(_RULER.match(line)) and sum(line.count(c) for c in "-=_") >= 3


def _pipe_cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    cells = re.split(r"(?<!\\)\|", s) if "\\" in s else s.split("|")
    return [c.strip() for c in cells]


def text_blocks(lines: list[str]) -> list:
    """Group body lines into Para / Table blocks (chrome lines dropped)."""
    blocks: list = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Para("\n".join(para)))
            para.clear()

    i = 0
    n = len(lines)
    while i < n:
        raw = lines[i]
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        # caption-only tables: "For all supported x86-based versions …Collapse this table"
        if "able" in stripped and len(stripped) < 400 and _CAPTION_TOGGLE.search(stripped):
            caption = _CAPTION_TOGGLE.sub("", stripped).strip()
            flush()
            j = i + 1
            rows: list[list[str]] = []
            while j < n and _PIPE_ROW.match(lines[j]):
                if not _PIPE_SEP.match(lines[j]):
                    rows.append(_pipe_cells(lines[j]))
                j += 1
            if caption or rows:
                blocks.append(Table(rows=rows, caption=caption or None, missing=not rows))
            i = j
            continue
        if stripped[0] == "|" and _PIPE_ROW.match(line) and (
                i + 1 < n and _PIPE_ROW.match(lines[i + 1])):
            caption = None
            if para and _is_caption(para[-1]):
                caption = _BULLET.sub("", para.pop().strip())
            elif (not para and blocks and isinstance(blocks[-1], Para)
                  and "\n" not in blocks[-1].text and _is_caption(blocks[-1].text)):
                caption = _BULLET.sub("", blocks.pop().text.strip())
            flush()
            rows = []
            while i < n and _PIPE_ROW.match(lines[i]):
                if not _PIPE_SEP.match(lines[i]):
                    rows.append(_pipe_cells(lines[i]))
                i += 1
            blocks.append(Table(rows=rows, caption=caption))
            continue
        cols = text_header(stripped)
        if cols:
            caption = None
            if para and len(para[-1]) < 200 and not para[-1].rstrip().endswith((".", ":")):
                caption = para.pop()
            flush()
            j = i + 1
            file_rows = []
            while j < n:
                nxt = lines[j].strip()
                if not nxt or _is_ruler(nxt):
                    # a blank line inside a table is common; two in a row end it
                    if not nxt and j + 1 < n and not lines[j + 1].strip():
                        break
                    j += 1
                    continue
                row = text_row(nxt, cols)
                if row is None:
                    break
                file_rows.append(row)
                j += 1
            blocks.append(Table(rows=[], caption=caption, file_rows=file_rows))
            i = j
            continue
        if stripped[0].isdigit() and _DATED_ROW.match(stripped) \
                and (first := text_row(stripped)) is not None \
                and first.file_size is not None and first.date is not None:
            # rows without a header line ("02/26/97 10:14a 77,584 Tsbkup.sys (Intel)")
            flush()
            file_rows = [first]
            j = i + 1
            while j < n and lines[j].strip() and _DATED_ROW.match(lines[j].strip()):
                row = text_row(lines[j].strip())
                if row is None:
                    break
                file_rows.append(row)
                j += 1
            blocks.append(Table(rows=[], file_rows=[_unparen(r) for r in file_rows]))
            i = j
            continue
        one = one_line_row(stripped) if "bytes" in stripped else None
        if one is not None:
            flush()
            blocks.append(Table(rows=[], file_rows=[one]))
            i += 1
            continue
        if is_chrome(stripped) or (
                stripped[0] in "-=_" and _is_ruler(stripped)):
            flush()
            i += 1
            continue
        text = strip_chrome(line).rstrip()
        if text.strip():
            para.append(text.strip() if not text.startswith("   ") else text)
        i += 1
    flush()
    return blocks
