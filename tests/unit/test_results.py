"""A round's results: tallies, switches, correct percentages, normalized change, reveal rules."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from studygroups.domain.errors import Invalid
from studygroups.domain.results import (
    Reveal,
    Switch,
    clean_correct_option,
    correctness,
    kept_correct_option,
    normalized_change,
    percent,
    results,
    reveal,
    switches,
    tally,
)
from studygroups.domain.rounds import RoundStatus

OPTIONS = ["A", "B", "C"]
users = st.text(alphabet="uvwxyz0123456789", min_size=1, max_size=4)
choices = st.sampled_from(["A", "B", "C", "D"])  # "D": cast before the options changed
ballots = st.dictionaries(users, choices, max_size=30)
options = st.none() | st.just(OPTIONS) | st.just(["C", "A"])
percentages = st.integers(0, 1000).map(lambda tenths: tenths / 10)


# --- tallies -----------------------------------------------------------------------------------


def test_a_tally_lists_every_option_in_order_with_zeros() -> None:
    counted = tally({"u1": "B", "u2": "B", "u3": "A"}, OPTIONS)

    assert list(counted.counts.items()) == [("A", 1), ("B", 2), ("C", 0)]
    assert counted.total == 3


def test_a_choice_no_longer_among_the_options_is_still_counted_after_them() -> None:
    counted = tally({"u1": "old", "u2": "A"}, ["B", "A"])

    assert list(counted.counts.items()) == [("B", 0), ("A", 1), ("old", 1)]


def test_a_round_without_options_counts_the_choices_cast_sorted() -> None:
    assert tally({"u1": "x", "u2": "m", "u3": "x"}, None).counts == {"m": 1, "x": 2}


@given(ballots, options)
def test_tally_counts_sum_to_the_total_of_ballots(
    cast: dict[str, str], listed: list[str] | None
) -> None:
    counted = tally(cast, listed)

    assert sum(counted.counts.values()) == counted.total == len(cast)
    assert all(n >= 0 for n in counted.counts.values())
    assert set(listed or []) <= set(counted.counts)


# --- switches ----------------------------------------------------------------------------------


def test_switches_count_each_move_over_users_who_voted_and_revoted() -> None:
    votes = {"u1": "A", "u2": "A", "u3": "B", "u4": "C"}
    revotes = {"u1": "B", "u2": "A", "u3": "B", "u5": "A"}  # u4 did not revote, u5 did not vote

    assert switches(votes, revotes, OPTIONS) == [
        Switch("A", "A", 1),
        Switch("A", "B", 1),
        Switch("B", "B", 1),
    ]


@given(ballots, ballots, options)
def test_switches_sum_to_the_users_who_did_both(
    votes: dict[str, str], revotes: dict[str, str], listed: list[str] | None
) -> None:
    found = switches(votes, revotes, listed)
    both = votes.keys() & revotes.keys()

    assert sum(s.count for s in found) == len(both)
    assert all(s.count > 0 for s in found)
    assert len({(s.from_choice, s.to_choice) for s in found}) == len(found)
    for choice in set(votes.values()):
        left = sum(s.count for s in found if s.from_choice == choice)
        assert left == sum(1 for user in both if votes[user] == choice)


# --- percentages and normalized change ---------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 3, 0.0), (1, 3, 33.3), (2, 3, 66.7), (3, 3, 100.0), (1, 16, 6.3), (1, 8, 12.5)],
)
def test_percentages_round_half_up_to_one_decimal(part: int, whole: int, expected: float) -> None:
    assert percent(part, whole) == expected


def test_a_percentage_of_nobody_is_null() -> None:
    assert percent(0, 0) is None


@pytest.mark.parametrize(
    ("vote_pct", "revote_pct", "expected"),
    [
        (50.0, 75.0, 0.5),
        (0.0, 100.0, 1.0),
        (40.0, 40.0, 0.0),
        (60.0, 20.0, -1.0),
        (33.3, 66.7, 0.501),
        (100.0, 50.0, None),
        (None, 50.0, None),
        (50.0, None, None),
    ],
)
def test_normalized_change_is_the_gain_over_what_could_be_gained(
    vote_pct: float | None, revote_pct: float | None, expected: float | None
) -> None:
    assert normalized_change(vote_pct, revote_pct) == expected


@settings(max_examples=300)
@given(percentages, percentages)
@example(36.0, 0.0)  # -0.5625 rounds half away from zero to -0.563
def test_normalized_change_is_at_most_one_and_follows_the_sign_of_the_gain(
    vote_pct: float, revote_pct: float
) -> None:
    change = normalized_change(vote_pct, revote_pct)

    if vote_pct == 100:
        assert change is None
        return
    assert change is not None
    assert change <= 1
    assert (change == 1) == (revote_pct == 100)
    lowest = -vote_pct / (100 - vote_pct)  # everyone wrong after the revote
    assert change >= lowest - 0.0005 - 1e-9  # rounding to 3 decimals moves it half a step at most
    if revote_pct > vote_pct:
        assert change >= 0
    elif revote_pct < vote_pct:
        assert change <= 0
    else:
        assert change == 0


@given(ballots, ballots, choices)
def test_correct_percentages_stay_within_0_and_100(
    votes: dict[str, str], revotes: dict[str, str], correct_option: str
) -> None:
    found = correctness(votes, revotes, correct_option)

    assert found is not None
    for pct, cast in [(found.vote_pct, votes), (found.revote_pct, revotes)]:
        if cast:
            assert pct is not None and 0 <= pct <= 100
        else:
            assert pct is None


def test_without_a_correct_option_there_is_no_correctness() -> None:
    assert results({"u1": "A"}, {"u1": "A"}, OPTIONS, None).correct is None


def test_results_of_a_round_put_the_parts_together() -> None:
    votes = {"u1": "A", "u2": "B", "u3": "B", "u4": "C"}
    revotes = {"u1": "B", "u2": "B", "u3": "B", "u4": "C"}

    found = results(votes, revotes, OPTIONS, "B")

    assert found.vote.counts == {"A": 1, "B": 2, "C": 1}
    assert found.revote.counts == {"A": 0, "B": 3, "C": 1}
    assert found.correct is not None
    assert (found.correct.vote_pct, found.correct.revote_pct) == (50.0, 75.0)
    assert found.correct.normalized_change == 0.5


# --- who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (RoundStatus.CREATED, Reveal(vote=False, revote=False, correct=False)),
        (RoundStatus.VOTING, Reveal(vote=False, revote=False, correct=False)),
        (RoundStatus.DISCUSSING, Reveal(vote=True, revote=False, correct=False)),
        (RoundStatus.REVOTING, Reveal(vote=True, revote=False, correct=False)),
        (RoundStatus.EXPLAINING, Reveal(vote=True, revote=True, correct=False)),
        (RoundStatus.DONE, Reveal(vote=True, revote=True, correct=True)),
    ],
)
def test_a_member_sees_each_part_once_its_phase_is_over(
    status: RoundStatus, expected: Reveal
) -> None:
    assert reveal(status, facilitates=False) == expected


@pytest.mark.parametrize("status", list(RoundStatus))
def test_a_facilitator_sees_everything_live(status: RoundStatus) -> None:
    assert reveal(status, facilitates=True) == Reveal(vote=True, revote=True, correct=True)


# --- the correct option on a prompt ------------------------------------------------------------


def test_the_correct_option_is_one_of_the_options_trimmed() -> None:
    assert clean_correct_option(" B ", OPTIONS) == "B"
    assert clean_correct_option(None, OPTIONS) is None


@pytest.mark.parametrize(("given_option", "listed"), [("D", OPTIONS), ("b", OPTIONS), ("A", None)])
def test_a_correct_option_that_is_not_an_option_is_invalid(
    given_option: str, listed: list[str] | None
) -> None:
    with pytest.raises(Invalid):
        clean_correct_option(given_option, listed)


def test_a_prompt_left_without_correct_option_keeps_it_only_while_it_is_still_an_option() -> None:
    assert kept_correct_option("B", ["B", "C"]) == "B"
    assert kept_correct_option("A", ["B", "C"]) is None
    assert kept_correct_option("A", None) is None
    assert kept_correct_option(None, OPTIONS) is None
