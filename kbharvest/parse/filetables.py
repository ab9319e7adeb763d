"""File-information tables: header mapping, row normalisation, text and property-list forms."""

from __future__ import annotations

import re
from functools import lru_cache

from kbharvest.models import FileRow
from kbharvest.parse.textutil import parse_date, parse_size, parse_time
from kbharvest.parse.vocab import fold

# header (folded) → FileRow field
_COLUMNS = {
    "file name": "file_name", "filename": "file_name", "name": "file_name", "file": "file_name",
    "dateiname": "file_name", "nome file": "file_name", "nom de fichier": "file_name",
    "nombre de archivo": "file_name", "nome do arquivo": "file_name", "ファイル名": "file_name",
    "文件名": "file_name", "bestandsnaam": "file_name",
    "file version": "file_version", "version": "file_version", "dateiversion": "file_version",
    "versione file": "file_version", "versione del file": "file_version",
    "version du fichier": "file_version", "version de archivo": "file_version",
    "versao do arquivo": "file_version", "ファイル バージョン": "file_version",
    "文件版本": "file_version", "bestandsversie": "file_version",
    "file size": "file_size", "size": "file_size", "dateigrosse": "file_size",
    "dimensione file": "file_size", "dimensione del file": "file_size",
    "taille du fichier": "file_size", "tamano de archivo": "file_size",
    "tamanho do arquivo": "file_size", "ファイル サイズ": "file_size", "文件大小": "file_size",
    "bestandsgrootte": "file_size", "dateigroße": "file_size", "nom du fichier": "file_name",
    "nome del file": "file_name", "nombre del archivo": "file_name",
    "tamaño de archivo": "file_size", "tamano del archivo": "file_size",
    "version del archivo": "file_version", "dimensioni file": "file_size",
    "date": "date", "date (utc)": "date", "datum": "date", "data": "date", "fecha": "date",
    "日付": "date", "日期": "date",
    "time": "time", "time (utc)": "time", "zeit": "time", "uhrzeit": "time", "ora": "time",
    "heure": "time", "hora": "time", "時刻": "time", "时间": "time", "tijd": "time",
    "platform": "platform", "plattform": "platform", "piattaforma": "platform",
    "plate-forme": "platform", "plateforme": "platform", "plataforma": "platform", "プラットフォーム": "platform",
    "平台": "platform",
}
_NOT_APPLICABLE = {fold(x) for x in ("Not applicable", "Not Applicable", "N/A", "n/a", "-", "",
                                     "Nicht zutreffend", "Non applicabile", "Non applicable",
                                     "No aplicable", "Não aplicável", "該当なし", "不适用")}
_ARCH = [
    (re.compile(r"\barm64\b", re.I), "arm64"),
    (re.compile(r"\barm(?:-based)?\b", re.I), "arm"),
    (re.compile(r"\b(?:ia-?64|itanium)", re.I), "ia64"),
    (re.compile(r"\b(?:x64|amd64|x86-64|64-bit \(x64\))", re.I), "x64"),
    (re.compile(r"\b(?:x86|i386|32-bit|32 bit)", re.I), "x86"),
]
_FILE_NAME = re.compile(r"^[\w$~\-.{}\[\]()+ ,#@]*\.[A-Za-z0-9_]{1,12}$|^[\w\-.]+_[0-9a-f]{16}_", re.I)


def is_file_name(text: str) -> bool:
    """'Mountmgr.sys', 'x86_microsoft-windows-…_none_….manifest': a file, not a caption."""
    return bool(_FILE_NAME.match(text.strip()))


def architecture_of(caption: str | None) -> str | None:
    """The architecture a table caption names ('x64-based versions' → 'x64'), else None."""
    if not caption:
        return None
    for rx, arch in _ARCH:
        if rx.search(caption):
            return arch
    return None


@lru_cache(maxsize=4096)
def column_field(header: str) -> str | None:
    """Map a header cell to a FileRow field (None: an extra column)."""
    return _COLUMNS.get(fold(header))


def looks_like_file_header(cells: list[str]) -> bool:
    """A header row of a file table: a file-name column plus version, size or date."""
    fields = [column_field(c) for c in cells]
    return "file_name" in fields and bool({"file_version", "file_size", "date"} & set(fields))


# table cells repeat ("File name", "x64", "Not applicable"): fold each distinct one once
_fold_cell = lru_cache(maxsize=8192)(fold)


def _na(value: str | None) -> bool:
    if value is None:
        return True
    v = value.strip()
    # versions, sizes and names (the usual cells) are never "not applicable": skip the fold
    return not v or (len(v) < 24 and not v[0].isdigit() and _fold_cell(v) in _NOT_APPLICABLE)


def make_row(header: list[str], cells: list[str]) -> FileRow | None:
    """Build a FileRow from a header and a row of cells; None for empty or non-file rows."""
    values: dict = {}
    extra: dict[str, str] = {}
    for i, h in enumerate(header):
        cell = cells[i].strip() if i < len(cells) else ""
        field = column_field(h)
        if field is None:
            if cell and not _na(cell):
                extra[h.strip() or f"column {i + 1}"] = cell
            continue
        if field in values:
            continue
        values[field] = None if _na(cell) else cell
    name = values.get("file_name")
    if not name:
        return None
    if _na(name):
        return None
    row = FileRow(
        file_name=name,
        file_version=values.get("file_version"),
        file_size=parse_size(values["file_size"]) if values.get("file_size") else None,
        date=parse_date(values["date"]) if values.get("date") else None,
        time=parse_time(values["time"]) if values.get("time") else None,
        platform=values.get("platform"),
        extra=extra,
    )
    return row


# ------------------------------------------------ "Date Time Version Size File name" text rows

_T_DATE = re.compile(r"^(\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}-[A-Za-z]{3}-\d{2,4}|\d{4}-\d{2}-\d{2})$")
_T_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?(?:[ap]m?)?$", re.I)
_T_VER = re.compile(r"^\d+(?:[.:]\d+)+[a-z]?$|^\d+(?:\.\d+)*\s*\(\S+\)$", re.I)
_T_SIZE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:KB|K|MB)?$", re.I)
_T_AMPM = re.compile(r"^[ap]\.?m\.?$", re.I)
_HEADER_WORDS = [
    (re.compile(r"file\s*name|filename|nombre de archivo|dateiname|nome (?:del )?file", re.I),
     "file_name"),
    (re.compile(r"(?<!file )\bname\b", re.I), "file_name"),
    (re.compile(r"\bversion\b|\bversione\b", re.I), "file_version"),
    (re.compile(r"\bsize\b|\bgr[oö](?:ß|ss)e\b", re.I), "file_size"),
    (re.compile(r"\bdate\b|\bdatum\b", re.I), "date"),
    (re.compile(r"\btime\b|\bzeit\b", re.I), "time"),
    (re.compile(r"\bplatform\b", re.I), "platform"),
]
_NAME_WORDS = ("name", "file", "fichier", "archivo", "arquivo", "datei", "ファイル", "文件")
_OTHER_WORDS = ("date", "datum", "size", "gro", "grö", "version", "time", "zeit")
DEFAULT_TEXT_COLUMNS = ["date", "time", "file_version", "file_size", "file_name", "platform"]


def text_header(line: str) -> list[str] | None:
    """Column order of a fixed-width header line ('Date Time Size File name Platform')."""
    if len(line) > 160:
        return None
    low = line.lower()
    # cheap word tests first: nearly every line is prose without both kinds of column word
    if not any(w in low for w in _NAME_WORDS) or not any(w in low for w in _OTHER_WORDS):
        return None
    if re.search(r"[.;!?]\s*$", line.strip()):
        return None
    found: list[tuple[int, str]] = []
    taken: set[str] = set()
    for rx, field in _HEADER_WORDS:
        m = rx.search(line)
        if m and field not in taken:
            # "File name" also contains "name": keep the first match per field
            if any(start <= m.start() < start + 10 for start, f in found if f == field):
                continue
            found.append((m.start(), field))
            taken.add(field)
    fields = [f for _, f in sorted(found)]
    if "file_name" in fields and len(set(fields) & {"file_version", "file_size", "date"}) >= 1 \
            and len(fields) >= 2:
        words = re.sub(r"file\s*name|file|name|version|size|date|time|platform|\(.*?\)|utc|"
                       r"kb|bytes|[-|:/]", "", line, flags=re.I).strip()
        if len(words) <= 12:
            return fields
    return None


def _size_value(tok: str) -> int | None:
    m = re.fullmatch(r"([\d,]+)(KB|K|MB)?", tok, re.I)
    if not m:
        return None
    n = parse_size(m.group(1))
    if n is None:
        return None
    unit = (m.group(2) or "").upper()
    return n * (1024 if unit in ("K", "KB") else 1024 * 1024 if unit == "MB" else 1)


def text_row(line: str, columns: list[str] | None = None) -> FileRow | None:
    """Parse one fixed-width row of an old text file table, columns in header order.

    Cells are matched by shape in the header's order, so a missing cell (a row without a
    time, say) leaves that field empty instead of shifting the others."""
    columns = columns or DEFAULT_TEXT_COLUMNS
    toks = line.split()
    if len(toks) < 2:
        return None
    vals: dict[str, object] = {}
    i = 0
    for col in columns:
        if i >= len(toks):
            break
        tok = toks[i]
        if col == "date" and _T_DATE.match(tok):
            vals["date"] = parse_date(tok)
            i += 1
        elif col == "time" and _T_TIME.match(tok):
            t = tok
            if i + 1 < len(toks) and _T_AMPM.match(toks[i + 1]):
                t += toks[i + 1][0]
                i += 1
            vals["time"] = parse_time(t)
            i += 1
        elif col == "file_version" and _T_VER.match(tok) and ("date" in vals or not _T_DATE.match(tok)):
            vals["file_version"] = tok
            i += 1
        elif col == "file_size" and _T_SIZE.match(tok) and _size_value(tok) is not None:
            vals["file_size"] = _size_value(tok)
            i += 1
        elif col == "file_name" and _FILE_NAME.match(tok) and not _T_SIZE.match(tok) \
                and not _T_VER.match(tok):
            vals["file_name"] = tok
            i += 1
        elif col == "platform":
            vals["platform"] = " ".join(toks[i:])
            i = len(toks)
    if "file_name" not in vals:
        return None
    if i < len(toks):
        # leftover cells: a trailing platform-like word when the header had none
        rest = " ".join(toks[i:])
        if "platform" in vals or len(rest) > 40:
            return None
        vals["platform"] = rest
    if len(vals) < 2:
        return None
    return FileRow(**vals)  # type: ignore[arg-type]


_ONE_LINE = re.compile(
    r"^\s*(\S+\.\w{1,4})\s+version\s+(\S+)\s+dated\s+(\S+)\s+(\S+)\s+([\d,]+)\s+bytes\b",
    re.I)


def one_line_row(line: str) -> FileRow | None:
    """'USER.EXE  version 4.00.951  dated 10/26/95 9:51am  461,984 bytes' → FileRow."""
    m = _ONE_LINE.match(line)
    if not m:
        return None
    name, ver, date, time, size = m.groups()
    return FileRow(file_name=name, file_version=ver, date=parse_date(date), time=parse_time(time),
                   file_size=parse_size(size))


# ------------------------------------------- property-list tables ("File name | Update.mum")

_PROPS = {"file name", "file version", "file size", "date (utc)", "time (utc)", "platform",
          "date", "time", "service branch", "sp requirement"}


def is_property_table(rows: list[list[str]]) -> bool:
    """Two-column tables where the first column cycles File name / File version / …"""
    firsts = [_fold_cell(r[0]) for r in rows if r and r[0].strip()]
    return bool(firsts) and firsts.count("file name") >= 1 and all(
        f in _PROPS or column_field(f) for f in firsts)


def property_rows(rows: list[list[str]]) -> list[FileRow]:
    """One FileRow per 'File name' block of a property-list table."""
    out: list[FileRow] = []
    header: list[str] = []
    cells: list[str] = []

    def flush() -> None:
        if header:
            row = make_row(header, cells)
            if row:
                out.append(row)

    for r in rows:
        if not r or not r[0].strip():
            continue
        key, value = r[0].strip(), (r[1].strip() if len(r) > 1 else "")
        if _fold_cell(key) == "file name":
            flush()
            header, cells = [], []
        header.append(key)
        cells.append(value)
    flush()
    return out
