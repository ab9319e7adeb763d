"""KB ids and the URLs they lived at."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbharvest.errors import InputError
from kbharvest.kbids import (
    IdRange,
    asp_url,
    id_prefixes,
    in_shard,
    non_article_url_reason,
    parse_id_file,
    parse_id_spec,
    parse_kb_id,
    parse_kb_url,
    parse_shard,
    queries_for_prefix,
)


@pytest.mark.parametrize("text, expected", [
    ("977153", 977153), ("KB977153", 977153), ("kb 977153", 977153), ("Q123456", 123456),
    ("q000123", 123), (" 2000100 ", 2000100),
])
def test_kb_ids_are_read_in_every_spelling(text, expected):
    assert parse_kb_id(text) == expected


@pytest.mark.parametrize("text", ["", "0", "abc", "KB", "977153x", "123456789", "../etc", "-5"])
def test_anything_else_is_not_a_kb_id(text):
    with pytest.raises(InputError):
        parse_kb_id(text)


def test_ranges_are_inclusive_and_must_run_forwards():
    assert parse_id_spec("2000000-2000100") == IdRange(2000000, 2000100)
    assert len(parse_id_spec("KB10-Q19")) == 10
    with pytest.raises(InputError):
        parse_id_spec("20-10")
    with pytest.raises(InputError):
        parse_id_spec("1-99999999")


def test_an_id_file_takes_ids_ranges_and_comments_and_names_the_bad_line():
    assert parse_id_file(["977153  # the seed", "", "# note", "10-12"]) == [
        IdRange(977153, 977153), IdRange(10, 12)]
    with pytest.raises(InputError, match=r"ids\.txt:2"):
        parse_id_file(["1", "nope"], "ids.txt")


@pytest.mark.parametrize("url, kb_id, lang, form", [
    ("http://support.microsoft.com/kb/977153", 977153, None, "kb"),
    ("https://support.microsoft.com/kb/977153/en-us", 977153, "en-us", "kb"),
    ("http://support.microsoft.com/kb/977153/de", 977153, "de", "kb"),
    ("http://support.microsoft.com/kb/Q189170/", 189170, None, "kb"),
    ("http://support.microsoft.com/en-us/kb/977153", 977153, "en-us", "kb"),
    ("http://support.microsoft.com/default.aspx?scid=kb;en-us;977153", 977153, "en-us", "scid"),
    ("http://support.microsoft.com/default.aspx?scid=KB;EN-US;Q189170", 189170, "en-us", "scid"),
    ("http://support.microsoft.com/default.aspx?scid=kb;de;977153&x=1", 977153, "de", "scid"),
    ("http://support.microsoft.com/?kbid=977153", 977153, None, "kbid"),
    ("http://support.microsoft.com/default.aspx?kbid=977153&ln=EN-US", 977153, "en-us", "kbid"),
    ("https://support.microsoft.com/help/977153", 977153, None, "help"),
    ("https://support.microsoft.com/en-us/help/977153/the-slug-of-it", 977153, "en-us", "help"),
    ("http://support.microsoft.com/support/kb/articles/Q189/1/70.asp", 189170, "en-us", "asp"),
    ("http://support.microsoft.com/support/kb/articles/q189/1/70.ASP", 189170, "en-us", "asp"),
    ("support.microsoft.com:80/kb/977153", 977153, None, "kb"),
    ("https://support.microsoft.com/en-us/topic/some-title-4f1c2d3e-aaaa", None, "en-us", "topic"),
])
def test_every_url_form_is_normalised_to_id_and_language(url, kb_id, lang, form):
    kb = parse_kb_url(url)
    assert kb is not None
    assert (kb.kb_id, kb.language, kb.form) == (kb_id, lang, form)


@pytest.mark.parametrize("url", [
    "http://support.microsoft.com/", "http://support.microsoft.com/kb/", "http://example.com/kb/977153",
    "http://support.microsoft.com/kb/977153abc", "http://support.microsoft.com/default.aspx?scid=fh;en-us;1",
    "http://support.microsoft.com/common/404Error.aspx",
])
def test_urls_that_show_no_article_are_not_article_urls(url):
    assert parse_kb_url(url) is None


def test_a_prefix_match_is_cut_at_the_numbers_boundary():
    assert parse_kb_url("http://support.microsoft.com/kb/9771530").kb_id == 9771530
    assert parse_kb_url("http://support.microsoft.com/kb/971550").kb_id == 971550


@pytest.mark.parametrize("url, reason", [
    ("https://support.microsoft.com/", "redirect to the support home page"),
    ("https://support.microsoft.com/en-us", "redirect to the support home page"),
    ("https://support.microsoft.com/en-us/", "redirect to the support home page"),
    ("http://support.microsoft.com/default.aspx", "redirect to the support home page"),
    ("http://support.microsoft.com/common/404Error.aspx?404;http://x", "archived 404 error page"),
    ("https://login.live.com/login.srf?wa=wsignin1.0", "sign-in page"),
    ("http://support.microsoft.com/selectlocale.aspx", "locale chooser page"),
    ("http://support.microsoft.com/kb/977153", None),
])
def test_redirect_targets_that_cannot_be_articles_say_why(url, reason):
    assert non_article_url_reason(url) == reason


def test_a_range_becomes_block_prefixes_and_single_ids():
    assert list(id_prefixes([IdRange(2000000, 2000100)])) == ["20000", "2000100"]
    assert list(id_prefixes([IdRange(977153, 977153), IdRange(5, 6)])) == ["5", "6", "977153"]
    dense = [IdRange(i, i) for i in range(977100, 977110)]
    assert list(id_prefixes(dense)) == ["9771"]


def test_shards_split_the_id_space_without_overlap_or_gaps():
    ids = range(1, 5000)
    shards = [parse_shard(f"{k}/3") for k in (1, 2, 3)]
    owners = [sum(in_shard(i, s) for s in shards) for i in ids]
    assert set(owners) == {1}
    every = set()
    for s in shards:
        for p in id_prefixes([IdRange(1, 4999)], s):
            every.add(p)
    assert len(every) == len(set(id_prefixes([IdRange(1, 4999)])))
    with pytest.raises(InputError):
        parse_shard("4/3")


def test_queries_for_an_id_cover_every_url_form():
    urls = {q.url for q in queries_for_prefix("189170")}
    for u in [
        "http://support.microsoft.com/kb/189170/en-us",
        "http://support.microsoft.com/default.aspx?scid=kb;en-us;Q189170",
        "http://support.microsoft.com/default.aspx?scid=kb;en-us;189170",
        "http://support.microsoft.com/?kbid=189170",
        "http://support.microsoft.com/en-us/kb/189170",
        "https://support.microsoft.com/en-us/help/189170/slug",
        "https://support.microsoft.com/help/189170",
        "http://support.microsoft.com/support/kb/articles/Q189/1/70.asp",
    ]:
        key = u.split("://", 1)[1].lower()
        assert any(key.startswith(q) for q in urls), u


FORMS = [
    "http://support.microsoft.com/kb/{n}", "https://support.microsoft.com/kb/{n}/en-us",
    "http://support.microsoft.com/default.aspx?scid=kb;en-us;{n}",
    "http://support.microsoft.com/default.aspx?scid=KB;EN-US;Q{n}",
    "http://support.microsoft.com/?kbid={n}", "http://support.microsoft.com/en-us/kb/{n}",
    "https://support.microsoft.com/help/{n}", "https://support.microsoft.com/en-us/help/{n}/a-slug",
]


@given(n=st.integers(1, 99_999_999), form=st.sampled_from(FORMS))
def test_every_form_of_every_id_reads_back_as_that_id(n, form):
    assert parse_kb_url(form.format(n=n)).kb_id == n


@given(n=st.integers(100_000, 999_999))
def test_the_1990s_address_of_a_six_digit_id_reads_back_as_that_id(n):
    assert parse_kb_url(asp_url(n)).kb_id == n


@given(lo=st.integers(1, 3_000_000), width=st.integers(0, 600), k=st.integers(1, 3))
def test_the_prefixes_of_a_range_cover_every_id_of_the_shard(lo, width, k):
    shard = (k, 3)
    prefixes = list(id_prefixes([IdRange(lo, lo + width)], shard))
    for n in range(lo, lo + width + 1):
        if in_shard(n, shard):
            assert any(str(n).startswith(p) for p in prefixes)
    # and a block prefix never spans two shards
    for p in prefixes:
        if len(p) >= 5 and len(p) < len(str(lo)):
            assert in_shard(int(p) * 100, shard)


def test_the_1990s_form_is_asked_for_only_where_ids_had_it():
    asp = "support.microsoft.com/support/kb/articles/"
    assert any(q.url.startswith(asp) for q in queries_for_prefix("1891", digits=6))
    assert not any(q.url.startswith(asp) for q in queries_for_prefix("20000", digits=7))
