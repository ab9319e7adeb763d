"""Bytes of one input → text: refuses binary and oversized input, repairs wrong encodings."""

from __future__ import annotations

import codecs
import re
import zlib

from kbharvest.errors import InputError

MAX_TEXT_BYTES = 16 * 1024 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)


_TOOLBAR = re.compile(r"<!-- BEGIN WAYBACK TOOLBAR INSERT -->.*?<!-- END WAYBACK TOOLBAR INSERT -->",
                      re.S)


def _gunzip_capped(data: bytes, name: str) -> bytes:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise InputError(name, f"corrupt gzip data ({exc})") from exc
    if len(out) > MAX_TEXT_BYTES:
        raise InputError(name, "decompressed page larger than 16 MiB")
    if not d.eof and not out:
        raise InputError(name, "corrupt or truncated gzip data (nothing could be decompressed)")
    # a stream cut short still gives the page it holds so far
    return out


_TEXT_BYTES = bytes(range(9, 14)) + bytes(range(32, 256))


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        # UTF-16 text has NULs too, but carries a BOM; checked before this
        return True
    controls = len(sample.translate(None, _TEXT_BYTES))
    return controls > max(8, len(sample) // 50)


def decode_page(data: bytes | str, *, name: str, content_type: str | None = None) -> str:
    """Decode ``data`` to text.

    UTF-8 is tried first (it almost never decodes text that is not UTF-8); otherwise the
    declared charset, and finally windows-1252, which is what mis-declared KB pages really
    are. Raises InputError for empty, binary, corrupt-gzip or oversized input.
    """
    if isinstance(data, str):
        if len(data) > MAX_TEXT_BYTES:
            raise InputError(name, f"input too large ({len(data)} characters; limit 16 MiB)")
        text = data
    else:
        if data[:2] == b"\x1f\x8b":
            data = _gunzip_capped(data, name)
        if len(data) > MAX_TEXT_BYTES:
            raise InputError(name, f"input too large ({len(data)} bytes; limit 16 MiB)")
        if data.startswith(codecs.BOM_UTF8):
            text = data[3:].decode("utf-8", errors="replace")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16", errors="replace")
        else:
            if _looks_binary(data[:8192]):
                raise InputError(name, "binary data, not a text or HTML page")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = _mostly_utf8(data) or _decode_declared(data, content_type)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if "WAYBACK TOOLBAR INSERT" in text:
        # a capture replayed with the archive's toolbar rather than raw (id_): not the page
        text = _TOOLBAR.sub("", text)
    if not text.strip():
        raise InputError(name, "empty input")
    return text


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few broken sequences (a page cut mid-character, one bad byte) is
    still UTF-8: decode it with replacements rather than turning every accent to mojibake."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 127) - broken
    return text if multibyte >= max(2 * broken, 1) else None


def _decode_declared(data: bytes, content_type: str | None) -> str:
    """Not UTF-8: try the HTTP header's charset, then the page's own <meta> charset (archived
    headers often claim UTF-8 for Shift_JIS or windows-1252 pages), then windows-1252."""
    candidates = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'"))
    m = _META_CHARSET.search(data[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", "replace").lower())
    for declared in candidates:
        if declared in ("utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            continue  # UTF-8 already failed; Latin-1 and ASCII pages really are windows-1252
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")
