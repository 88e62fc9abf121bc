"""Chat messages: trimmed, HTML tags stripped, 1..500 characters of what is left."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from studygroups.domain.chat import MESSAGE_MAX, RAW_MESSAGE_MAX, clean_message
from studygroups.domain.errors import Invalid

TAG = re.compile(r"<[A-Za-z/!][^<>]*>")  # what a browser would parse as a tag


def test_a_message_is_trimmed() -> None:
    assert clean_message("  I think it is A \n") == "I think it is A"


def test_a_plain_message_is_kept_as_written() -> None:
    assert clean_message("2 > 1 & 1 < 2, isn't it?") == "2 > 1 & 1 < 2, isn't it?"


def test_tags_are_removed_and_their_text_kept() -> None:
    assert clean_message("<b>hi</b>") == "hi"


def test_a_script_element_loses_its_tags_but_keeps_its_text() -> None:
    assert clean_message("<script>alert(1)</script>x") == "alert(1)x"


def test_a_dangling_tag_at_the_end_is_dropped() -> None:
    assert clean_message("look <img src=x") == "look"


def test_a_dangling_closing_tag_at_the_end_is_dropped() -> None:
    assert clean_message("bye </b") == "bye"


def test_tags_with_attributes_are_removed() -> None:
    assert clean_message('<a href="https://x.test" onclick="evil()">link</a> here') == "link here"


def test_text_between_tags_is_trimmed_after_stripping() -> None:
    assert clean_message("<p>  spaced  </p>") == "spaced"


def test_entities_stay_as_written() -> None:
    assert clean_message("&lt;b&gt; is bold") == "&lt;b&gt; is bold"


def test_a_message_of_the_maximum_length_is_accepted() -> None:
    assert clean_message("m" * MESSAGE_MAX) == "m" * 500


def test_a_message_one_character_too_long_is_invalid() -> None:
    with pytest.raises(Invalid, match=r"1\.\.500"):
        clean_message("m" * (MESSAGE_MAX + 1))


def test_the_limit_counts_characters_left_after_stripping_tags_and_spaces() -> None:
    raw = "  <i>" + "m" * MESSAGE_MAX + "</i>  "

    assert clean_message(raw) == "m" * MESSAGE_MAX


@pytest.mark.parametrize("raw", ["", " ", "\n\t  \r\n"])
def test_an_empty_or_whitespace_message_is_invalid(raw: str) -> None:
    with pytest.raises(Invalid):
        clean_message(raw)


@pytest.mark.parametrize("raw", ["<b></b>", "<br/>", "<p> </p>", "<script>", "<img src=x"])
def test_a_message_of_only_tags_is_invalid(raw: str) -> None:
    with pytest.raises(Invalid, match="after removing HTML tags"):
        clean_message(raw)


def test_an_absurdly_large_raw_message_is_refused_before_any_parsing() -> None:
    with pytest.raises(Invalid):
        clean_message("<b>" * (RAW_MESSAGE_MAX // 3 + 1))


_chunks = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(["<", ">", "<b>", "</b>", "<img src=x", "<<", ">>", "< ", "<!--", "-->"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(raw=_chunks)
@example(raw="<<b>script>alert(1)<</b>/script>")
@example(raw="<<>b>x")
@example(raw="x" * 600)
def test_a_cleaned_message_never_contains_a_tag_and_never_exceeds_500_characters(
    raw: str,
) -> None:
    try:
        cleaned = clean_message(raw)
    except Invalid:
        return

    assert TAG.search(cleaned) is None
    assert 1 <= len(cleaned) <= MESSAGE_MAX
    assert cleaned == cleaned.strip()


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_characters="<>"), min_size=1, max_size=500))
def test_text_without_angle_brackets_only_loses_surrounding_whitespace(text: str) -> None:
    if not text.strip():
        with pytest.raises(Invalid):
            clean_message(text)
    else:
        assert clean_message(text) == text.strip()


@pytest.mark.parametrize("text", ["1 < 2 and 3 > 2", "if a<b then", "x -> y", "<3 you"])
def test_angle_brackets_used_as_text_are_kept(text: str) -> None:
    assert clean_message(text) == text


def test_a_comment_is_removed_with_the_angle_brackets_it_holds() -> None:
    assert clean_message("a <!-- b > c --> d") == "a  d"


def test_a_tag_formed_by_removing_the_tag_inside_it_is_removed_too() -> None:
    assert clean_message("x <<b>i>y<</b>/i>") == "x y"


def test_tags_cut_off_at_the_end_are_dropped_one_after_the_other() -> None:
    assert clean_message("x <a<b") == "x"


# Messages built to make a cleaning that backtracks, or removes tags until none is left, take
# minutes of the event loop: the nesting depth times the square of the spaces.
HOSTILE = [
    "<b" * 2000 + ">" * 2000 + "<a" + " " * 10_000,
    "<a" + " " * (RAW_MESSAGE_MAX - 2),
    "<!--" * (RAW_MESSAGE_MAX // 4),
    "<b" * (RAW_MESSAGE_MAX // 2 - 1) + ">",
    "<a " + "=" * (RAW_MESSAGE_MAX - 3),
    "<" * RAW_MESSAGE_MAX,
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_a_message_built_to_make_cleaning_slow_is_cleaned_in_one_pass(raw: str) -> None:
    # A liveness bound, not a benchmark: the regular expressions took over 10 s on the first.
    started = time.process_time()
    try:
        cleaned = clean_message(raw)
    except Invalid:
        cleaned = ""
    took = time.process_time() - started

    assert TAG.search(cleaned) is None
    assert took < 1.0
