"""The parser's shared pieces, each against tables of real-world forms."""

from __future__ import annotations

import datetime as dt

import pytest

from kbharvest.parse.blocks import replaced_ids, requirements_in, restart_requirement
from kbharvest.parse.detect import detect_template, reject_reason
from kbharvest.parse.filetables import architecture_of, text_header, text_row
from kbharvest.parse.flat import split_glued
from kbharvest.parse.textutil import kb_refs_in, parse_date, parse_size, parse_time
from kbharvest.parse.urls import kb_from_url


@pytest.mark.parametrize(("text", "want"), [
    ("December 8, 2009", dt.date(2009, 12, 8)),
    ("08-MAY-2002", dt.date(2002, 5, 8)),
    ("21-Oct-2004", dt.date(2004, 10, 21)),
    ("10/26/2006", dt.date(2006, 10, 26)),
    ("28/08/01", dt.date(2001, 8, 28)),
    ("1998/03/10", dt.date(1998, 3, 10)),
    ("martedì 18 ottobre 2005", dt.date(2005, 10, 18)),
    ("8. Dezember 2009", dt.date(2009, 12, 8)),
    ("8 de diciembre de 2009", dt.date(2009, 12, 8)),
    ("2009年12月8日", dt.date(2009, 12, 8)),
    ("no date here", None),
])
def test_dates_in_many_forms_become_iso(text, want):
    assert parse_date(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("07:10p", "19:10"), ("9:51am", "09:51"), ("15:51", "15:51"), ("12:05a", "00:05"),
    ("7:05 PM", "19:05"), ("99:99", None),
])
def test_times_become_24_hour(text, want):
    assert parse_time(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("1,234,567", 1234567), ("15,360", 15360), ("932", 932), ("1.234.567", 1234567),
    ("461,984 bytes", 461984), ("Not applicable", None), ("12,34", None),
])
def test_sizes_become_integers(text, want):
    assert parse_size(text) == want


@pytest.mark.parametrize(("caption", "want"), [
    ("For all supported x86-based versions of Windows Vista", "x86"),
    ("For all supported x64-based versions of Windows 7", "x64"),
    ("For all supported IA-64-based versions of Windows Server 2008 R2", "ia64"),
    ("Windows Server 2003, 32-bit editions", "x86"),
    ("Windows Server 2003, Itanium-based versions", "ia64"),
    ("For all supported ARM64-based versions of Windows 11", "arm64"),
    ("Windows Server 2003, 64-bit edition", None),
    (None, None),
])
def test_table_captions_name_their_architecture(caption, want):
    assert architecture_of(caption) == want


def test_old_text_tables_are_read_in_their_header_order():
    cols = text_header("Date       Time      Size       File name  Version    Platform")
    row = text_row("08/12/99   05:20p    75,769     Vip.386    4.10.1999  Windows 98", cols)
    assert (row.file_name, row.file_version, row.file_size, row.date, row.time, row.platform) == (
        "Vip.386", "4.10.1999", 75769, dt.date(1999, 8, 12), "17:20", "Windows 98")
    cols = text_header("Date      Time    Version      Size    File name     Platform")
    row = text_row("4/10/99           02.573.4104  138KB   msorcl32.dll", cols)
    assert row.file_name == "msorcl32.dll" and row.time is None and row.file_size == 138 * 1024
    assert text_header("The following files are included in this update.") is None


@pytest.mark.parametrize(("text", "want"), [
    ("You must restart the computer after you apply this hotfix.", "required"),
    ("You do not have to restart the computer after you apply this hotfix.", "not_required"),
    ("You may have to restart the computer after you apply this hotfix.", "may_be_required"),
    ("This update does not require a restart.", "not_required"),
    ("Sie müssen den Computer nach der Installation neu starten.", "required"),
    ("Restart information is not available.", "unknown"),
])
def test_restart_requirement_is_classified(text, want):
    assert restart_requirement(text) == want


def test_requirements_come_from_sentences_and_lists():
    assert requirements_in(
        "To apply this hotfix, you must be running Windows Vista Service Pack 2 (SP2) or "
        "Windows Server 2008 Service Pack 2 (SP2). Additionally, you must have Message "
        "Queuing 4.0 installed.") == [
        "Windows Vista Service Pack 2 (SP2)", "Windows Server 2008 Service Pack 2 (SP2)",
        "Message Queuing 4.0"]
    assert requirements_in(
        "To apply this hotfix, your computer must be running one of the following:\n"
        "- Windows 7\n- Windows Server 2008 R2 Service Pack 1 (SP1) For more information, see"
        " 976932") == ["Windows 7", "Windows Server 2008 R2 Service Pack 1 (SP1)"]
    assert requirements_in("There are no prerequisites for installing this hotfix.") == []


def test_replacement_ids_and_the_replaces_none_case():
    assert replaced_ids("This hotfix does not replace any other hotfixes.", 1) == []
    assert replaced_ids("This update replaces the following: 2388210 Application "
                        "Compatibility Update, and KB982519.", 1) == [982519, 2388210]


def test_kb_references_in_text_and_links():
    text = ("see article number 935791 and KB968849, Q123456, "
            "http://support.microsoft.com/kb/824684/ and version 5.2.3790.224")
    assert kb_refs_in(text) == {935791, 968849, 123456, 824684}


@pytest.mark.parametrize(("url", "want"), [
    ("http://support.microsoft.com/kb/277222/de", (277222, "de")),
    ("http://support.microsoft.com/default.aspx?scid=kb;en-us;Q977153", (977153, "en-us")),
    ("http://support.microsoft.com/support/kb/articles/Q189/1/70.asp", (189170, None)),
    ("https://support.microsoft.com/en-us/help/977153/slug", (977153, "en-us")),
    ("https://ftp.zx.net.nz/pub/archive/ftp.microsoft.com/MISC/KB/en-us/873/337.HTM",
     (873337, "en-us")),
    (None, (None, None)),
])
def test_page_addresses_give_kb_id_and_language(url, want):
    assert kb_from_url(url) == want


def test_glued_headings_are_split_apart():
    text = split_glued("On This PageSYMPTOMSYou have a problem. CAUSEThis issue occurs.\n"
                       "language.PrerequisitesTo apply this hotfix\nRestart requirementYou must")
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    assert "SYMPTOMS" in lines and "CAUSE" in lines and "Prerequisites" in lines
    assert "Restart requirement" in lines
    assert "STATUS_DEVICE_BUSY" in split_glued("error STATUS_DEVICE_BUSY is returned")


@pytest.mark.parametrize(("text", "want"), [
    ("DOCUMENT:Q10022  07-SEP-2001  [word97]\nTITLE   :x\n", "ftp-txt"),
    ('<html><head><META NAME="KBID" CONTENT="Q1"></head><body><p>x</p></body></html>',
     "ftp-htm"),
    ('<html><body><h1 class="ocpArticleTitle">t</h1><section class="ocpSection">'
     "<p>x</p></section></body></html>", "topic"),
    ("<html><body><div class=\"section\"><h2 class=\"subTitle\">S</h2><script>"
     "loadTOCNode(1, 'symptoms');</script><div class=\"sbody\">x</div></div></body></html>",
     "kb-classic"),
    ('<div id="kb_section"><h2 class="subTitle">S</h2><p>Collapse this table</p></div>',
     "kb-2010"),
    ("---\ntitle: t\nms.date: 1/1/2020\n---\n# T\n\n## Symptoms\n\nx", "markdown"),
    ("Article ID: 977153 - Last Review: December 8, 2009\nSYMPTOMS\nx", "text"),
    # angle brackets in prose are not HTML
    ("Output <computer name> <cluster name> <database name>\nCollapse this table", "text"),
])
def test_template_is_detected_from_content(text, want):
    assert detect_template(text) == want


def test_not_found_and_archive_error_pages_are_rejected_with_a_reason():
    nf = "<html><head><title>Page not found</title></head><body>gone</body></html>"
    assert "not found" in reject_reason(nf, "html")
    wb = ("<html><head><title>Wayback Machine</title></head><body>Hrm. The Wayback Machine "
          "has not archived that URL.</body></html>")
    assert "archive error" in reject_reason(wb, "html")
    assert reject_reason("SYMPTOMS\nThe page you requested cannot be found.", "text") is None


@pytest.mark.parametrize(("heading", "want"), [
    ("Resolution 1: Modify your code", "resolution"), ("Cause 2", "cause"),
    ("Method 1: Microsoft Update", None), ("修正プログラムの置き換えに関する情報", "hotfix_replacement"),
    ("ファイル情報", "file_information"), ("Informations de fichier", "file_information"),
    ("Neustartanforderung", "restart_requirement"), ("Sintomi", "symptoms"),
])
def test_headings_in_many_languages_map_to_kinds(heading, want):
    from kbharvest.parse.vocab import heading_kind

    assert heading_kind(heading) == want


def test_folding_keeps_japanese_voicing_marks_and_drops_latin_accents():
    from kbharvest.parse.vocab import fold

    assert fold("ファイル バージョン") == "ファイル バージョン"
    assert fold("  Résolution : ") == "resolution"


def test_kb_links_name_their_article_in_the_section_without_showing_the_address():
    from kbharvest.parse import parse_document

    page = (b"# Printer stops\n\n_Original KB number:_ &nbsp; 3000001\n\n## Symptoms\n\nIt stops.\n\n"
            b"## Resolution\n\n### Prerequisites\n\nYou must be running Windows 7. See "
            b"[how to get SP1](https://support.microsoft.com/help/976932).\n")
    a = parse_document(page, name="x.md")
    assert a.prerequisites.kb_refs == [976932]
    assert "support.microsoft.com" not in a.prerequisites.text
    assert a.kb_refs == [976932]


def test_a_page_with_a_title_and_no_text_is_rejected():
    from kbharvest.errors import RejectedCapture
    from kbharvest.parse import parse_document

    shell = (b'<!DOCTYPE html><html lang="en-us"><head><meta charset="utf-8"><title>Microsoft '
             b"Support</title></head><body></body></html>")
    with pytest.raises(RejectedCapture, match="no article text"):
        parse_document(shell, name="home.html", url="http://support.microsoft.com/kb/300016")


def test_a_shift_jis_page_served_as_utf8_is_read_by_its_meta_charset():
    from kbharvest.parse.decode import decode_page

    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=shift_jis">'
            "<title>修正プログラムの情報</title></head></html>").encode("shift_jis")
    text = decode_page(html, name="ja.html", content_type="text/html; charset=utf-8")
    assert "修正プログラムの情報" in text


# Regressions found in review: each page was misread before the fix.

def _parse(text: str, name: str = "page"):
    from kbharvest.parse import parse_document

    return parse_document(text.encode("utf-8"), name=name)


def test_a_1990s_applies_to_list_without_a_closing_rule_keeps_the_article():
    a = _parse("DOCUMENT:Q123456  07-SEP-2001  [word97]\nTITLE   :Word Crashes When Saving\n"
               "The information in this article applies to:\n\n - Microsoft Word 97\n\n"
               "SYMPTOMS\n========\n\nWord stops responding.\n")
    assert a.applies_to == ["Microsoft Word 97"]
    assert a.symptoms == "Word stops responding."


def test_a_version_paragraph_inside_the_article_is_not_taken_for_the_footer():
    a = _parse("<html><body><h1>T</h1><p>Article ID: 123456</p><h2>SYMPTOMS</h2><p>x</p>"
               "<h2>MORE INFORMATION</h2><p>Version: 2.0 of the tool added a switch.</p>"
               "<h2>STATUS</h2><p>Microsoft has confirmed this.</p></body></html>")
    assert "Version: 2.0" in a.more_information
    assert a.status == "Microsoft has confirmed this."


def test_kb_links_under_chrome_headings_are_not_references():
    a = _parse("<html><body><h1>T</h1><p>Article ID: 123456</p><h2>SYMPTOMS</h2><p>x</p>"
               '<h2>Related articles</h2><p><a href="/kb/555555">other</a></p></body></html>')
    assert a.kb_refs == []


def test_numeric_review_dates_are_month_first_on_us_pages():
    a = _parse('<html lang="en-us"><body><h1>T</h1><p>Article ID: 123456</p>'
               '<div class="lastUpdated">Last Updated: 12/8/2009</div><h2>SYMPTOMS</h2><p>x</p>'
               "</body></html>")
    assert a.last_review == dt.date(2009, 12, 8)


def test_a_caption_row_inside_a_file_table_starts_the_next_table():
    a = _parse("<html><body><h1>T</h1><p>Article ID: 123456</p><h2>RESOLUTION</h2>"
               "<h3>File information</h3><table><tr><th>File name</th><th>File version</th>"
               "<th>File size</th><th>Date</th><th>Time</th><th>Platform</th></tr>"
               '<tr><td colspan="6">Windows Vista, x64-based versions</td></tr>'
               "<tr><td>Mountmgr.sys</td><td>6.0.6002.22283</td><td>75,264</td>"
               "<td>21-Nov-2009</td><td>04:05</td><td>x64</td></tr></table></body></html>")
    assert [(t.architecture, [r.file_name for r in t.rows]) for t in a.file_tables] == [
        ("x64", ["Mountmgr.sys"])]


def test_a_one_word_heading_in_prose_is_not_split_off():
    a = _parse("Article ID: 123456 - Last Review: May 1, 2008 - Revision: 1.0\nSYMPTOMS\n"
               "The window closes. Status Bar shows nothing.\nCAUSE\nA bug.\n")
    assert a.symptoms == "The window closes. Status Bar shows nothing."
    assert [s.kind for s in a.sections] == ["symptoms", "cause"]


def test_numbers_with_units_are_not_kb_references():
    assert kb_refs_in("The file this article describes is 1048576 bytes.\n2147483 items") == set()


@pytest.mark.parametrize(("text", "want"), [
    ("You must restart the computer after you apply this hotfix. If you are prompted to "
     "restart the computer, click Yes.", "required"),
    ("This hotfix does not replace any other hotfixes. For more information, see article "
     "982018.", None),
])
def test_the_first_statement_decides(text, want):
    if want:
        assert restart_requirement(text) == want
    else:
        assert replaced_ids(text, 1) == []


def test_a_referenced_kb_number_is_not_taken_for_the_articles_own():
    from kbharvest.errors import RejectedCapture

    with pytest.raises(RejectedCapture):
        _parse("Service fails after an update\nSYMPTOMS\nAfter you install update KB2345678, "
               "the service fails.\n")
