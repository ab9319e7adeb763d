"""The parser scored against the hand-checked gold records of real pages (../shared/eval).

The floors are pinned at what the parser reaches; a drop below them is a regression."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest

OVERALL_FLOOR = 1.0
LAYOUT_FLOOR = 0.98


def _score(shared_dir, gold_dir) -> tuple[float, str]:
    proc = subprocess.run(
        [sys.executable, str(shared_dir / "eval" / "score.py"), str(gold_dir),
         str(shared_dir / "corpus"), "--", sys.executable, "-m", "kbharvest", "parse",
         "--format", "jsonl"],
        capture_output=True, text=True, timeout=600)
    m = re.search(r"field accuracy ([\d.]+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    return float(m.group(1)), proc.stdout


def test_corpus_field_accuracy_stays_at_its_floor(shared_dir):
    acc, report = _score(shared_dir, shared_dir / "eval" / "gold")
    assert acc >= OVERALL_FLOOR, report


def _layouts(shared_dir) -> dict[str, list]:
    with open(shared_dir / "corpus" / "MANIFEST.tsv", encoding="utf-8") as fh:
        fmt = {row["file"]: row["format"] for row in csv.DictReader(fh, delimiter="\t")}
    groups: dict[str, list] = {}
    for gold in sorted((shared_dir / "eval" / "gold").glob("*.json")):
        doc = json.loads(gold.read_text(encoding="utf-8"))["doc"]
        groups.setdefault(fmt.get(doc, "unknown"), []).append(gold)
    return groups


def test_every_layout_scores_at_least_98_percent(shared_dir, tmp_path):
    groups = _layouts(shared_dir)
    assert len(groups) >= 3, groups.keys()
    failures = []
    for layout, golds in groups.items():
        folder = tmp_path / re.sub(r"\W", "_", layout)
        folder.mkdir()
        for g in golds:
            shutil.copy(g, folder / g.name)
        acc, report = _score(shared_dir, folder)
        if acc < LAYOUT_FLOOR:
            failures.append(f"{layout}: {acc:.3f}\n{report}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", ["html-Q143478_techshelps-msdn98.html",
                                  "html-Q100025_techshelps-msdn98.html"])
def test_msdn_cd_pages_give_id_title_review_date_and_sections(shared_dir, name):
    from kbharvest.parse import parse_document

    a = parse_document((shared_dir / "corpus" / name).read_bytes(), name=name)
    assert a.template == "ftp-htm"
    assert str(a.kb_id) in name
    assert a.title and a.last_review is not None
    assert a.applies_to
    assert {"summary", "more_information"} <= {s.kind for s in a.sections} or \
        {"symptoms", "cause", "resolution", "status"} <= {s.kind for s in a.sections}
