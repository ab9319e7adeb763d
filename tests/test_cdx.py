"""CDX answers in every form, and paging through a real (fake-Wayback) server."""

from __future__ import annotations

import json

import pytest
from crawlkit.fakearchive import FakeArchive
from crawlkit.warcs import Capture
from hypothesis import given
from hypothesis import strategies as st

from kbharvest.cdx import CdxClient, parse_cdx
from kbharvest.errors import CdxError
from kbharvest.http import ArchiveSession, HttpConfig

HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
ROW = ["com,microsoft,support)/kb/977153", "20100102030405", "http://support.microsoft.com/kb/977153",
       "text/html", "200", "AAAA", "1234"]
REVISIT = ["com,microsoft,support)/kb/977153", "20110102030405",
           "http://support.microsoft.com/kb/977153", "warc/revisit", "-", "AAAA", "500"]


def test_a_wayback_json_array_is_read_by_its_header_row():
    page = parse_cdx(json.dumps([HEADER, ROW, REVISIT]))
    assert page.form == "json-array" and page.resume_key is None
    assert [r.timestamp for r in page.rows] == ["20100102030405", "20110102030405"]
    assert page.rows[0].status == 200 and not page.rows[0].is_revisit


def test_revisit_rows_are_kept_and_known_as_revisits():
    page = parse_cdx(json.dumps([HEADER, REVISIT]))
    assert len(page.rows) == 1
    assert page.rows[0].is_revisit and page.rows[0].status is None


def test_the_resume_key_follows_an_empty_row_in_json():
    page = parse_cdx(json.dumps([HEADER, ROW, [], ["com%2Cmicrosoft+20100102030405"]]))
    assert len(page.rows) == 1 and page.resume_key == "com%2Cmicrosoft+20100102030405"


def test_plain_text_lines_and_their_resume_key_after_a_blank_line():
    text = " ".join(ROW) + "\n" + " ".join(REVISIT) + "\n\nthe-key\n"
    page = parse_cdx(text)
    assert page.form == "text" and page.resume_key == "the-key" and len(page.rows) == 2


def test_pywb_json_lines_use_their_own_field_names():
    line = json.dumps({"urlkey": ROW[0], "timestamp": ROW[1], "url": ROW[2], "mime": "text/html",
                       "status": "200", "digest": "AAAA", "length": "9", "filename": "x.warc.gz"})
    page = parse_cdx(line + "\n" + line + "\n")
    assert page.form == "json-lines"
    assert page.rows[0].original == ROW[2] and page.rows[0].mimetype == "text/html"
    assert page.rows[0].statuscode == "200"


@pytest.mark.parametrize("text", ["", "[]", "\n"])
def test_an_empty_answer_is_no_rows(text):
    assert parse_cdx(text).rows == []


@pytest.mark.parametrize("text", ["<html>Error</html>", "[[\"a\"], [1, 2", "a b c\n"])
def test_an_answer_in_no_known_form_is_a_cdx_error(text):
    with pytest.raises(CdxError):
        parse_cdx(text)


def _archive(n: int, **kw) -> FakeArchive:
    caps = [Capture(f"http://support.microsoft.com/kb/{977100 + i}", "20100101000000", b"x%d" % i)
            for i in range(n)]
    return FakeArchive(caps, **kw)


@pytest.mark.parametrize("form", ["json", "text"])
def test_paging_with_resume_keys_returns_every_row_once(form):
    with _archive(23, page_size=5, cdx_form=form) as fake:
        session = ArchiveSession(fake.url, HttpConfig(cdx_per_min=60000))
        client = CdxClient(session, page_size=5)
        pages = list(client.iter_pages("support.microsoft.com/kb/9771", "prefix"))
    rows = [r.original for p in pages for r in p.rows]
    assert len(pages) == 5 and len(rows) == 23 == len(set(rows))
    assert all("fl=urlkey" in r.path for r in fake.requests("cdx"))
    assert not any("page=" in r.path for r in fake.requests("cdx"))


def test_a_full_page_without_a_resume_key_is_asked_again_unpaged():
    with _archive(7, resume_keys=False) as fake:  # honours limit, never sends a key
        session = ArchiveSession(fake.url, HttpConfig(cdx_per_min=60000))
        pages = list(CdxClient(session, page_size=5).iter_pages("support.microsoft.com/kb/9771",
                                                                "prefix"))
    assert sum(len(p.rows) for p in pages) == 7
    assert "limit=" not in fake.requests("cdx")[-1].path


@given(st.text(max_size=300))
def test_any_answer_parses_to_rows_or_a_cdx_error_never_a_crash(text):
    try:
        page = parse_cdx(text)
    except CdxError:
        return
    assert all(len(r.timestamp) == 14 for r in page.rows)
