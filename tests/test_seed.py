"""The seed article (../shared/seed/kb977153.txt) parses to exactly what issue 2 states."""

from __future__ import annotations

import datetime as dt

import pytest

from kbharvest.parse import parse_document


@pytest.fixture(scope="module")
def seed(shared_dir):
    return parse_document((shared_dir / "seed" / "kb977153.txt").read_bytes(), name="kb977153.txt")


def test_seed_identity_fields(seed):
    assert seed.kb_id == 977153
    assert seed.title.startswith("Error message: When you unmount volumes")
    assert seed.last_review == dt.date(2009, 12, 8)
    assert seed.revision == "1.0"
    assert seed.template == "text"


def test_seed_has_every_section_in_page_order(seed):
    kinds = [s.kind for s in seed.sections]
    want = ["symptoms", "cause", "resolution", "prerequisites", "restart_requirement",
            "hotfix_replacement", "file_information", "status", "more_information"]
    positions = [kinds.index(k) for k in want]
    assert positions == sorted(positions)
    levels = {s.kind: s.level for s in seed.sections}
    assert levels["symptoms"] == levels["cause"] == levels["status"] == 1
    assert levels["prerequisites"] == levels["restart_requirement"] == 2


def test_seed_symptoms_and_cause_have_exact_edges(seed):
    assert seed.symptoms.startswith(
        "You have a computer that is running Windows Server 2008 or Windows Vista")
    assert seed.symptoms.endswith("DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION")
    assert seed.cause.endswith("This behavior causes the stop code error.")
    assert "RESOLUTION" not in seed.cause and "On This Page" not in seed.symptoms


def test_seed_hotfix_fields(seed):
    assert seed.prerequisites.requirements == [
        "Windows Vista Service Pack 2 (SP2)", "Windows Server 2008 Service Pack 2 (SP2)"]
    assert seed.prerequisites.kb_refs == [935791, 968849]
    assert seed.restart.requirement == "required"
    assert seed.replacement.replaces == []
    assert seed.kb_refs == [824684, 935791, 968849]


def test_seed_file_tables_are_six_captions_without_rows(seed):
    assert [t.architecture for t in seed.file_tables] == ["x86", "x64", "ia64"] * 2
    assert all(t.rows_missing and not t.rows for t in seed.file_tables)
    assert seed.file_tables[3].caption.startswith("Additional files for all supported x86")


def test_seed_text_holds_no_page_chrome(seed):
    everything = "\n".join(s.text for s in seed.sections)
    for chrome in ("Collapse this table", "Back to the top", "On This Page", "Facebook"):
        assert chrome not in everything
