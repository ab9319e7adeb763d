"""Bad input never stops the parser: each input gives a record or a named rejection, in bounded
time, and a batch goes on past it. Property tests feed random and mutated pages.

Every parse here runs under a generous alarm (not a benchmark: it catches hangs and runaway
backtracking, not slowness).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import os
import random
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbharvest.errors import KbharvestError
from kbharvest.models import Article
from kbharvest.parse import parse_document, parse_paths

GOLDEN = Path(__file__).resolve().parent / "golden"
CLASSIC_EN = GOLDEN / "classic-en-hotfix.html"
CLASSIC_IT = GOLDEN / "classic-it-hotfix.html"
IE_CP1252 = GOLDEN / "classic-en-howto-ie.html"
FTP_TXT = GOLDEN / "ftp-txt-q241837.txt"
NOT_FOUND = GOLDEN / "reject-not-found.html"
ARCHIVE_ERROR = GOLDEN / "reject-wayback-not-archived.html"

GOLDEN_PAGES = sorted(p for p in GOLDEN.iterdir() if not p.name.endswith(".json")
                      and p.suffix in {".html", ".txt", ".md"} and p.name != "README.md")


class Hang(Exception):
    """Raised by the alarm: the parser took longer than any sane bound."""


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def _fire(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, _fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def outcome(data: bytes, name: str, seconds: int = 30) -> Article | KbharvestError:
    """The article, or the KbharvestError the parser raised; any other exception fails."""
    with time_limit(seconds):
        try:
            return parse_document(data, name=name)
        except KbharvestError as exc:
            return exc


def assert_named_rejection(result: object, name: str, *words: str) -> None:
    assert isinstance(result, KbharvestError), f"expected a rejection, got {result!r}"[:300]
    assert getattr(result, "input", None) == name, "the rejection names its input"
    reason = getattr(result, "reason", "") or ""
    assert reason.strip(), "the rejection says why"
    if words:
        assert any(w in reason.lower() for w in words), f"reason {reason!r} names none of {words}"


# ----------------------------------------------------------------------------- single inputs


def test_empty_input_is_rejected_as_empty() -> None:
    assert_named_rejection(outcome(b"", "empty.html"), "empty.html", "empty")
    assert_named_rejection(outcome(b" \r\n\t \n", "blank.txt"), "blank.txt", "empty")


def test_binary_input_is_rejected_as_binary() -> None:
    rng = random.Random(977153)
    blob = bytes(rng.randrange(256) for _ in range(64 * 1024))
    assert_named_rejection(outcome(blob, "capture.bin"), "capture.bin", "binary")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    assert_named_rejection(outcome(png, "image.png"), "image.png", "binary")


def test_corrupt_gzip_is_rejected() -> None:
    assert_named_rejection(outcome(b"\x1f\x8b\x08\x00garbage", "page.html.gz"), "page.html.gz",
                           "gzip", "corrupt", "compress")


def test_page_cut_mid_tag_keeps_what_it_holds() -> None:
    full = CLASSIC_EN.read_bytes()
    whole = outcome(full, "full.html")
    assert isinstance(whole, Article)
    cut = full[: full.index(b"<h2 class=\"subTitle\"", full.index(b"loadTOCNode(1, 'resolution')")) + 9]
    assert cut.endswith(b"<h2 class"), "cut inside a tag"
    part = outcome(cut, "cut.html")
    assert isinstance(part, Article), part
    assert part.kb_id == whole.kb_id and part.title == whole.title
    assert part.symptoms == whole.symptoms and part.cause == whole.cause


def test_page_cut_mid_utf8_sequence_is_still_read_as_utf8() -> None:
    full = CLASSIC_IT.read_bytes()
    whole = outcome(full, "full.html")
    assert isinstance(whole, Article)
    # cut right after the first byte of a two-byte character in the body
    at = full.index("più".encode(), full.index(b"</h1>")) + 3
    cut = full[:at]
    with pytest.raises(UnicodeDecodeError):
        cut.decode("utf-8")
    part = outcome(cut, "cut-utf8.html")
    assert isinstance(part, Article), part
    # one broken character at the end must not turn the whole page into mojibake
    assert part.title == whole.title, f"{part.title!r} != {whole.title!r}"
    assert "Ã" not in (part.symptoms or "")


@pytest.mark.parametrize("declared", ["utf-8", "iso-8859-1"])
def test_windows_1252_page_declared_as_another_charset_is_repaired(declared: str) -> None:
    data = IE_CP1252.read_bytes().replace(b"charset=windows-1252", f"charset={declared}".encode())
    assert f"charset={declared}".encode() in data
    art = outcome(data, f"cp1252-as-{declared}.html")
    assert isinstance(art, Article), art
    text = "\n".join(s.text for s in art.sections)
    assert "\u201cnew\u201d" in text, "curly quotes (0x93/0x94) decoded as windows-1252"
    assert "\ufffd" not in text and "\x93" not in text


def test_twenty_megabyte_page_is_refused_or_parsed_in_bounded_time() -> None:
    page = CLASSIC_EN.read_bytes()
    filler = b"<p>" + b"padding text of an absurdly large capture " * 40 + b"</p>\n"
    big = page.replace(b"</body>", filler * (20 * 1024 * 1024 // len(filler)) + b"</body>")
    assert len(big) > 20 * 1024 * 1024
    result = outcome(big, "huge.html", seconds=90)
    if isinstance(result, Article):
        assert result.kb_id == 979612
    else:
        assert_named_rejection(result, "huge.html", "large", "size", "big", "limit")


def test_ten_thousand_deep_nesting_is_refused_or_parsed_in_bounded_time() -> None:
    page = CLASSIC_EN.read_bytes().decode()
    deep = "<div>" * 10_000 + "deep text" + "</div>" * 10_000
    data = page.replace("<h2 class=\"subTitle\" id=\"tocHeadRef\">CAUSE", deep + "<h2 class=\"subTitle\" id=\"tocHeadRef\">CAUSE").encode()
    result = outcome(data, "deep.html", seconds=60)
    if isinstance(result, Article):
        assert result.kb_id == 979612
    else:
        assert_named_rejection(result, "deep.html", "deep", "nest", "depth", "recursion")


def test_ten_thousand_unclosed_tags_do_not_hang() -> None:
    data = b"<html><body><h1 class=\"title\">x</h1>" + b"<b><i><span>" * 10_000 + b"SYMPTOMS"
    result = outcome(data, "unclosed.html", seconds=60)
    assert isinstance(result, Article | KbharvestError)


def test_archive_error_page_is_rejected_as_such() -> None:
    assert_named_rejection(outcome(ARCHIVE_ERROR.read_bytes(), "err.html"), "err.html",
                           "archive", "wayback")


def test_not_found_capture_is_rejected_as_such() -> None:
    assert_named_rejection(outcome(NOT_FOUND.read_bytes(), "404.html"), "404.html",
                           "not found", "404")


# ----------------------------------------------------------------------------- batches


@pytest.fixture()
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "captures"
    folder.mkdir()
    shutil.copy(CLASSIC_EN, folder / "01-good.html")
    (folder / "02-empty.html").write_bytes(b"")
    (folder / "03-binary.bin").write_bytes(os.urandom(4096) + b"\x00" * 64)
    shutil.copy(NOT_FOUND, folder / "04-not-found.html")
    shutil.copy(FTP_TXT, folder / "05-good.txt")
    (folder / "06-cut.html").write_bytes(CLASSIC_EN.read_bytes()[:9000])
    return folder


EXPECTED_KINDS = ["article", "rejection", "rejection", "rejection", "article", "article"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_over_a_folder_gives_one_result_per_file_in_order(mixed_folder: Path, jobs: int) -> None:
    with time_limit(120):
        results = list(parse_paths([mixed_folder], jobs=jobs))
    names = [Path(r.input).name for r in results]
    assert names == sorted(p.name for p in mixed_folder.iterdir())
    assert [r.kind for r in results] == EXPECTED_KINDS
    for r in results:
        if r.rejection is not None:
            assert r.rejection.input == r.input and r.rejection.error.strip()


def test_batch_keeps_argument_order_and_reports_missing_files(mixed_folder: Path) -> None:
    files = [mixed_folder / "05-good.txt", mixed_folder / "nope.html", mixed_folder / "01-good.html",
             mixed_folder / "02-empty.html"]
    results = list(parse_paths(files))
    assert [r.input for r in results] == [str(f) for f in files]
    assert [r.kind for r in results] == ["article", "rejection", "article", "rejection"]
    assert results[0].article is not None and results[0].article.kb_id == 241837


# ----------------------------------------------------------------------------- properties

FRAGMENTS = [
    "<html>", "<body>", "</div>", "<div class=\"sbody\">", "<h2 class=\"subTitle\">", "</h2>",
    "<script>loadTOCNode(1, 'symptoms');</script>", "<h3 id=\"tocHeadRef\">", "</h3>",
    "SYMPTOMS", "CAUSE", "RESOLUTION", "Prerequisites", "Restart requirement",
    "Hotfix replacement information", "File information", "Collapse this table",
    "<table class=\"table\">", "<tr>", "<th>File name</th>", "<td>", "</td>", "</tr>", "</table>",
    "Hrepsvc.exe", "6.0.6002.22258", "1,104,384", "14-Oct-2009", "31-Feb-2009", "25:99",
    "Not applicable", "x86", "IA-64", "Article ID: 979612 - Last Review: November 17, 2009 - "
    "Revision: 2.0", "Last Review: Foo 99, 2009", "DOCUMENT:Q241837  11-MAR-2002  [winnt]\n",
    "TITLE   :x\n", "SYMPTOMS\n========\n", "-----\n", "   Date  Time  Version  Size  File name\n",
    "   01/18/2000  04:12p  4.0.1381.7034  51,984   Hlprint.dll   i386\n", "---\n",
    "title: x\n", "## Symptoms\n", "#### File information\n", "|File name|File size|\n",
    "|---|---|\n", "|a.dll|99999999999999999999999|\n", "_Original KB number:_ &nbsp; 2979541\n",
    "http://support.microsoft.com/kb/977153\n", "KB0", "Q0", "kb 99999999999", "\n", " ",
    "&#8203;", "&#xD800;", "&amp", "<!--", "-->", "<![CDATA[", "\u00a0", "é", "\ufeff",
    "<meta charset=\"utf-16\">", "<meta name=\"KBID\" content=\"Q\">", "awa-kb_id",
    "<main id=\"mainContent\">", "<h1 class=\"ocpArticleTitle\">", "<section class=\"ocpSection\">",
]

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                 derandomize=True)


def _never_crashes(data: bytes, name: str) -> None:
    result = outcome(data, name, seconds=20)
    assert isinstance(result, Article | KbharvestError)
    if isinstance(result, Article):
        Article.model_validate(result.model_dump())  # round-trips through the strict model


@PROPS
@given(st.binary(max_size=4096))
def test_random_bytes_give_an_article_or_a_kbharvest_error(data: bytes) -> None:
    _never_crashes(data, "random.bin")


@PROPS
@given(st.text(max_size=3000))
def test_random_text_gives_an_article_or_a_kbharvest_error(text: str) -> None:
    _never_crashes(text.encode("utf-8", "surrogatepass"), "random.txt")


@PROPS
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=120))
def test_random_kb_shaped_markup_gives_an_article_or_a_kbharvest_error(parts: list[str]) -> None:
    _never_crashes("".join(parts).encode("utf-8", "surrogatepass"), "fragments.html")


@st.composite
def mutated_golden_page(draw: st.DrawFn) -> tuple[str, bytes]:
    page = draw(st.sampled_from(GOLDEN_PAGES))
    data = bytearray(page.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        n = len(data)
        if n < 2:
            break
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a, min(n, a + 4000)))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate"]))
        if op == "delete":
            del data[a:b]
        elif op == "duplicate":
            data[b:b] = data[a:b]
        elif op == "truncate":
            del data[a:]
        else:
            c = draw(st.integers(0, n - 1))
            d = draw(st.integers(c, min(n, c + 4000)))
            if b <= c:
                data[:] = data[:a] + data[c:d] + data[b:c] + data[a:b] + data[d:]
    return page.name, bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)
@given(mutated_golden_page())
def test_mutated_golden_pages_give_an_article_or_a_kbharvest_error(case: tuple[str, bytes]) -> None:
    name, data = case
    _never_crashes(data, "mutated-" + name)


def test_batch_refuses_a_twenty_megabyte_file_and_goes_on(tmp_path: Path) -> None:
    huge = tmp_path / "02-huge.html"
    with huge.open("wb") as fh:
        fh.write(CLASSIC_EN.read_bytes()[:4000])
        fh.write(b"<p>" + b"x" * (20 * 1024 * 1024) + b"</p></body></html>")
    shutil.copy(CLASSIC_EN, tmp_path / "01-good.html")
    shutil.copy(FTP_TXT, tmp_path / "03-good.txt")
    with time_limit(120):
        results = list(parse_paths([tmp_path]))
    assert [Path(r.input).name for r in results] == ["01-good.html", "02-huge.html", "03-good.txt"]
    assert results[0].kind == "article" and results[2].kind == "article"
    if results[1].rejection is not None:
        assert any(w in results[1].rejection.error.lower() for w in ("large", "size", "limit"))


# ----------------------------------------------------------------------------- real pages

CHROME = re.compile(
    r"Back to the top|Collapse this table|Expand this table|Expand all \| Collapse all|"
    r"Was this information helpful|PROVIDED IN THE MICROSOFT KNOWLEDGE BASE IS PROVIDED|"
    r"Additional query words|Torna all.inizio|Zurück zum Anfang|Retour en haut|"
    r"Diese Tabelle (?:minimieren|maximieren)|Comprimi questa tabella|Réduire ce tableau|"
    r"View and request hotfix downloads", re.I)


def test_real_corpus_pages_parse_without_page_chrome_in_their_texts(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus"
    leaks = []
    for page in sorted(corpus.iterdir()):
        if page.name in ("kbarchive-sample.tar.gz", "MANIFEST.tsv"):
            continue
        result = outcome(page.read_bytes(), page.name)
        if isinstance(result, KbharvestError):
            assert result.reason.strip()
            continue
        for section in result.sections:
            for m in CHROME.finditer(section.text):
                leaks.append(f"{page.name} [{section.heading}]: …{m.group(0)}…")
    assert not leaks, "page chrome left in section text:\n  " + "\n  ".join(leaks[:20])


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda b: gzip.compress(b), id="gzip"),
        pytest.param(lambda b: codecs.BOM_UTF8 + b, id="utf8-bom"),
        pytest.param(lambda b: b.decode("utf-8").encode("utf-16"), id="utf16-bom"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
    ],
)
@pytest.mark.parametrize("page", [CLASSIC_IT, FTP_TXT], ids=lambda p: p.name)
def test_the_same_page_in_another_byte_form_gives_the_same_record(page: Path, encode) -> None:
    data = page.read_bytes()
    if page.suffix == ".txt":
        data = data.replace(b"\r\n", b"\n")
    plain = outcome(data, page.name)
    other = outcome(encode(data), page.name)
    assert isinstance(plain, Article) and isinstance(other, Article), other
    assert other.model_dump() == plain.model_dump()


# Lines built to make a careless regex backtrack: each must parse in well under a second.
_HEAD = "Article ID: 977153 - Last Review: December 8, 2009 - Revision: 1.0\nSYMPTOMS\nIt fails.\n"


@pytest.mark.parametrize(("label", "page"), [
    ("ruler", _HEAD + "-" * 200_000 + "x\n"),
    ("glued title", "Article ID: 977153 - Last Review: December 8, 2009 - Revision: 1.0 "
     + "aBcd " * 40_000 + "\nSYMPTOMS\nx fails.\n"),
    ("emphasis", "# T\n\n_Original KB number:_ 977153\n\n## Symptoms\n\n" + "_x " * 40_000 + "\n"),
    ("heading", "# T\n\n_Original KB number:_ 977153\n\n## Symptoms\n\nx\n\n## a" + " " * 5_000
     + "b\n\ny\n"),
    ("links", "# T\n\n_Original KB number:_ 977153\n\n## Symptoms\n\n" + "[a](b " * 40_000 + "\n"),
    ("prerequisites", _HEAD + "RESOLUTION\nPrerequisites\n" + "requires Windows " * 8_000 + "\n"),
])
def test_pathological_lines_parse_in_linear_time(label, page):
    start = time.perf_counter()
    result = outcome(page.encode(), label, seconds=20)
    assert isinstance(result, (Article, KbharvestError))
    assert time.perf_counter() - start < 5, f"{label} took too long"
