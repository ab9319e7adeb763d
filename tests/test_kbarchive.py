"""All 5,000 real 1990s text articles of ../shared/corpus/kbarchive-sample.tar.gz parse,
each to a record or a named rejection, with no uncaught exception."""

from __future__ import annotations

import tarfile
from collections import Counter

import pytest

from kbharvest.parse import parse_paths


@pytest.fixture(scope="module")
def sample(shared_dir, tmp_path_factory):
    tar = shared_dir / "corpus" / "kbarchive-sample.tar.gz"
    if not tar.exists():
        pytest.skip(f"{tar} not present")
    out = tmp_path_factory.mktemp("kbarchive")
    with tarfile.open(tar) as tf:
        tf.extractall(out, filter="data")
    return out


def test_all_5000_articles_parse_to_a_record_or_a_named_rejection(sample):
    files = sorted(p for p in sample.rglob("*") if p.is_file())
    assert len(files) == 5000
    results = list(parse_paths([sample], jobs=2))
    assert len(results) == len(files)
    kinds = Counter(r.kind for r in results)
    for r in results:
        if r.rejection is not None:
            assert r.rejection.error and r.rejection.input
    # these are all well-formed articles of one template: every one must give a record
    assert kinds["article"] == 5000, [r.rejection for r in results if r.rejection][:5]
    articles = [r.article for r in results]
    assert all(a.template == "ftp-txt" and a.title for a in articles)
    assert sum(bool(a.file_tables) for a in articles) > 50
    by_name = {p.name.upper(): p for p in files}
    for a in articles[:200]:
        assert f"Q{a.kb_id}.TXT" in by_name
