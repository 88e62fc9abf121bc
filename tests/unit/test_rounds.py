"""The round state machine CREATED → VOTING → DISCUSSING → REVOTING → EXPLAINING → DONE."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studygroups.domain.errors import Conflict, GateNotMet, Invalid
from studygroups.domain.rounds import (
    HIGHLIGHT_IDS_MAX,
    OPTION_MAX,
    OPTIONS_MAX,
    PROMPT_MAX,
    RoundStatus,
    check_advance,
    check_round_index,
    clean_prompt,
    next_status,
)

ORDERED = [
    RoundStatus.CREATED,
    RoundStatus.VOTING,
    RoundStatus.DISCUSSING,
    RoundStatus.REVOTING,
    RoundStatus.EXPLAINING,
    RoundStatus.DONE,
]
MEMBERS = ["u3", "u1", "u2"]


def _advance(
    current: RoundStatus,
    target: RoundStatus,
    *,
    members: list[str] | None = None,
    voted: set[str] | None = None,
    revoted: set[str] | None = None,
    has_explanation: bool = True,
    force: bool = False,
) -> None:
    """check_advance with every gate met unless a test says otherwise."""
    everyone = MEMBERS if members is None else members
    check_advance(
        current,
        target,
        members=everyone,
        voted=set(everyone) if voted is None else voted,
        revoted=set(everyone) if revoted is None else revoted,
        has_explanation=has_explanation,
        force=force,
    )


# --- the order of statuses ---------------------------------------------------------------------


def test_statuses_are_ordered_created_voting_discussing_revoting_explaining_done() -> None:
    assert list(RoundStatus) == ORDERED


def test_each_status_names_the_following_one_as_next_and_done_names_none() -> None:
    nexts = [next_status(status) for status in ORDERED]

    assert nexts == [*ORDERED[1:], None]


@pytest.mark.parametrize("force", [False, True], ids=["plain", "forced"])
@pytest.mark.parametrize(
    ("current", "target"),
    list(product(ORDERED, ORDERED)),
    ids=[f"{a}->{b}" for a, b in product(ORDERED, ORDERED)],
)
def test_only_the_one_step_forward_is_legal_from_each_status(
    current: RoundStatus, target: RoundStatus, force: bool
) -> None:
    one_step_forward = ORDERED.index(target) == ORDERED.index(current) + 1

    if one_step_forward:
        _advance(current, target, force=force)
    else:
        with pytest.raises(Conflict) as refused:
            _advance(current, target, force=force)
        assert not isinstance(refused.value, GateNotMet)


def test_an_illegal_move_explains_which_status_is_next() -> None:
    with pytest.raises(Conflict, match="only DISCUSSING is next"):
        _advance(RoundStatus.VOTING, RoundStatus.EXPLAINING)


def test_a_done_round_refuses_every_move_saying_it_is_done() -> None:
    for target in ORDERED:
        with pytest.raises(Conflict, match="the round is DONE"):
            _advance(RoundStatus.DONE, target, force=True)


# --- gates ---------------------------------------------------------------------------------------


def test_discussing_needs_every_members_vote_unless_forced() -> None:
    with pytest.raises(GateNotMet):
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted={"u1", "u2"})

    _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted={"u1", "u2"}, force=True)


def test_discussing_gate_reports_required_current_and_missing_in_members_order() -> None:
    members = ["u3", "u1", "u4", "u2"]

    with pytest.raises(GateNotMet) as refused:
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, members=members, voted={"u1"})

    assert refused.value.required == 4
    assert refused.value.current == 1
    assert refused.value.missing == ["u3", "u4", "u2"]


def test_discussing_gate_with_no_votes_misses_every_member() -> None:
    with pytest.raises(GateNotMet) as refused:
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted=set())

    assert (refused.value.required, refused.value.current) == (3, 0)
    assert refused.value.missing == MEMBERS


def test_votes_from_non_members_do_not_count_towards_the_gate() -> None:
    with pytest.raises(GateNotMet) as refused:
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted={"u1", "stranger", "other"})

    assert refused.value.required == 3
    assert refused.value.current == 1
    assert refused.value.missing == ["u3", "u2"]


def test_revotes_do_not_open_the_discussing_gate() -> None:
    with pytest.raises(GateNotMet):
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted=set(), revoted=set(MEMBERS))


def test_explaining_needs_every_members_revote_unless_forced() -> None:
    with pytest.raises(GateNotMet):
        _advance(RoundStatus.REVOTING, RoundStatus.EXPLAINING, revoted={"u3"})

    _advance(RoundStatus.REVOTING, RoundStatus.EXPLAINING, revoted={"u3"}, force=True)


def test_explaining_gate_reports_required_current_and_missing_in_members_order() -> None:
    members = ["b", "c", "a"]

    with pytest.raises(GateNotMet) as refused:
        _advance(
            RoundStatus.REVOTING,
            RoundStatus.EXPLAINING,
            members=members,
            voted=set(members),
            revoted={"c"},
        )

    assert refused.value.required == 3
    assert refused.value.current == 1
    assert refused.value.missing == ["b", "a"]


def test_first_votes_do_not_open_the_explaining_gate() -> None:
    with pytest.raises(GateNotMet):
        _advance(RoundStatus.REVOTING, RoundStatus.EXPLAINING, voted=set(MEMBERS), revoted=set())


def test_gate_refusals_are_conflicts_so_they_map_to_409() -> None:
    with pytest.raises(Conflict):
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted=set())


def test_gate_message_says_how_many_members_are_awaited() -> None:
    with pytest.raises(GateNotMet, match="waiting for 2 of 3 members to vote"):
        _advance(RoundStatus.VOTING, RoundStatus.DISCUSSING, voted={"u1"})


def test_done_needs_the_groups_explanation() -> None:
    with pytest.raises(GateNotMet) as refused:
        _advance(RoundStatus.EXPLAINING, RoundStatus.DONE, has_explanation=False)

    assert refused.value.required == 1
    assert refused.value.current == 0
    assert refused.value.missing == []


def test_force_never_waives_the_explanation_gate_of_done() -> None:
    with pytest.raises(GateNotMet):
        _advance(RoundStatus.EXPLAINING, RoundStatus.DONE, has_explanation=False, force=True)


def test_done_is_reached_once_the_explanation_exists_even_without_votes() -> None:
    _advance(
        RoundStatus.EXPLAINING, RoundStatus.DONE, voted=set(), revoted=set(), has_explanation=True
    )


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (RoundStatus.CREATED, RoundStatus.VOTING),
        (RoundStatus.DISCUSSING, RoundStatus.REVOTING),
    ],
)
def test_ungated_steps_need_no_votes_and_no_explanation(
    current: RoundStatus, target: RoundStatus
) -> None:
    _advance(current, target, voted=set(), revoted=set(), has_explanation=False)


# --- property: random attempts never skip and never go back --------------------------------------

_USERS = ["a", "b", "c", "d"]
_attempts = st.lists(
    st.tuples(
        st.sampled_from(ORDERED),
        st.frozensets(st.sampled_from(_USERS)),
        st.frozensets(st.sampled_from(_USERS)),
        st.booleans(),
        st.booleans(),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(members=st.lists(st.sampled_from(_USERS), unique=True, min_size=1), attempts=_attempts)
def test_random_attempted_transitions_never_skip_a_status_and_never_go_back(
    members: list[str],
    attempts: list[tuple[RoundStatus, frozenset[str], frozenset[str], bool, bool]],
) -> None:
    status = RoundStatus.CREATED
    visited = [status]

    for target, voted, revoted, has_explanation, force in attempts:
        legal = ORDERED.index(target) == ORDERED.index(status) + 1
        gate_met = (
            force
            or (target is RoundStatus.DISCUSSING and set(members) <= voted)
            or (target is RoundStatus.EXPLAINING and set(members) <= revoted)
            or target in (RoundStatus.VOTING, RoundStatus.REVOTING)
        )
        if target is RoundStatus.DONE:
            gate_met = has_explanation
        try:
            check_advance(
                status,
                target,
                members=members,
                voted=voted,
                revoted=revoted,
                has_explanation=has_explanation,
                force=force,
            )
        except Conflict:
            assert not (legal and gate_met)
        else:
            assert legal and gate_met
            status = target
            visited.append(status)

    assert visited == ORDERED[: len(visited)]


# --- round index ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("round_index", "rounds_count"), [(1, 1), (1, 10), (5, 10), (10, 10)])
def test_round_indexes_from_one_to_the_rounds_count_are_accepted(
    round_index: int, rounds_count: int
) -> None:
    check_round_index(round_index, rounds_count)


@pytest.mark.parametrize(("round_index", "rounds_count"), [(0, 3), (-1, 3), (4, 3), (11, 10)])
def test_round_indexes_outside_one_to_the_rounds_count_are_invalid(
    round_index: int, rounds_count: int
) -> None:
    with pytest.raises(Invalid, match=f"1..{rounds_count}"):
        check_round_index(round_index, rounds_count)


# --- prompts -------------------------------------------------------------------------------------


def test_a_prompt_is_trimmed_and_its_options_are_trimmed() -> None:
    text, options, highlights = clean_prompt("  What is 2+2?\n", [" 3", "4 ", "\t5\t"], None)

    assert text == "What is 2+2?"
    assert options == ["3", "4", "5"]
    assert highlights is None


def test_a_prompt_without_options_keeps_options_none() -> None:
    _, options, _ = clean_prompt("Why?", None, None)

    assert options is None


def test_a_prompt_keeps_linked_highlight_ids_as_a_list() -> None:
    _, _, highlights = clean_prompt("Why?", None, ("h1", "h2"))

    assert highlights == ["h1", "h2"]


@pytest.mark.parametrize("prompt_text", ["", "   ", "\n\t"])
def test_an_empty_prompt_is_invalid(prompt_text: str) -> None:
    with pytest.raises(Invalid, match="prompt_text"):
        clean_prompt(prompt_text, None, None)


def test_a_prompt_of_the_maximum_length_is_accepted_even_with_surrounding_spaces() -> None:
    text, _, _ = clean_prompt("  " + "p" * PROMPT_MAX + "  ", None, None)

    assert len(text) == PROMPT_MAX == 2_000


def test_a_prompt_one_character_too_long_is_invalid() -> None:
    with pytest.raises(Invalid, match="prompt_text"):
        clean_prompt("p" * (PROMPT_MAX + 1), None, None)


def test_duplicate_options_are_invalid() -> None:
    with pytest.raises(Invalid, match="distinct"):
        clean_prompt("Pick", ["A", "B", "A"], None)


def test_options_that_become_duplicates_after_trimming_are_invalid() -> None:
    with pytest.raises(Invalid, match="distinct"):
        clean_prompt("Pick", ["A", " A "], None)


def test_the_maximum_number_of_options_is_accepted() -> None:
    _, options, _ = clean_prompt("Pick", [f"o{i}" for i in range(OPTIONS_MAX)], None)

    assert options is not None
    assert len(options) == OPTIONS_MAX == 20


def test_one_option_too_many_is_invalid() -> None:
    with pytest.raises(Invalid, match="at most 20 options"):
        clean_prompt("Pick", [f"o{i}" for i in range(OPTIONS_MAX + 1)], None)


@pytest.mark.parametrize("option", ["", "   "])
def test_an_empty_option_is_invalid(option: str) -> None:
    with pytest.raises(Invalid, match="each option"):
        clean_prompt("Pick", ["A", option], None)


def test_an_option_of_the_maximum_length_is_accepted_and_one_longer_is_invalid() -> None:
    _, options, _ = clean_prompt("Pick", ["o" * OPTION_MAX], None)
    assert options == ["o" * 500]

    with pytest.raises(Invalid, match="each option"):
        clean_prompt("Pick", ["o" * (OPTION_MAX + 1)], None)


def test_too_many_linked_highlight_ids_are_invalid() -> None:
    clean_prompt("Why?", None, [f"h{i}" for i in range(HIGHLIGHT_IDS_MAX)])

    with pytest.raises(Invalid, match="linked_highlight_ids"):
        clean_prompt("Why?", None, [f"h{i}" for i in range(HIGHLIGHT_IDS_MAX + 1)])
