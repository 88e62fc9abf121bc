"""Votes, revotes and the scribe's explanation: when each is accepted and what it may contain."""

from __future__ import annotations

from itertools import product

import pytest

from studygroups.domain.activity import (
    CHOICE_MAX,
    EXPLANATION_MAX,
    KEY_TERM_MAX,
    KEY_TERMS_MAX,
    ActivityType,
    Explanation,
    check_phase,
    is_choice_hidden,
    parse_activity_type,
    parse_choice,
    parse_explanation,
)
from studygroups.domain.errors import Conflict, Forbidden, Invalid
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import SessionRole

A = ActivityType
R = RoundStatus
OPTIONS = ["A", "B", "C"]


# --- activity types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["PI_VOTE_SUBMIT", "PI_REVOTE_SUBMIT", "GROUP_EXPLANATION_SUBMIT"]
)
def test_the_three_known_event_types_are_parsed(value: str) -> None:
    parsed = parse_activity_type(value)

    assert parsed == value
    assert isinstance(parsed, ActivityType)


@pytest.mark.parametrize("value", ["", "PI_VOTE", "pi_vote_submit", "CHAT", " PI_VOTE_SUBMIT"])
def test_an_unknown_event_type_is_invalid_and_lists_the_allowed_ones(value: str) -> None:
    with pytest.raises(Invalid, match="PI_VOTE_SUBMIT, PI_REVOTE_SUBMIT, GROUP_EXPLANATION_SUBMIT"):
        parse_activity_type(value)


# --- phases --------------------------------------------------------------------------------------

ACCEPTED = {
    (A.PI_VOTE_SUBMIT, R.VOTING),
    (A.PI_REVOTE_SUBMIT, R.REVOTING),
    (A.GROUP_EXPLANATION_SUBMIT, R.EXPLAINING),
}


@pytest.mark.parametrize(
    ("activity", "status"),
    list(product(ActivityType, RoundStatus)),
    ids=[f"{a}@{s}" for a, s in product(ActivityType, RoundStatus)],
)
def test_each_activity_is_accepted_only_in_its_own_round_status(
    activity: ActivityType, status: RoundStatus
) -> None:
    if (activity, status) in ACCEPTED:
        check_phase(activity, status)
    else:
        with pytest.raises(Conflict, match="accepted only while the round is"):
            check_phase(activity, status)


def test_a_vote_outside_voting_names_the_status_it_needs() -> None:
    with pytest.raises(Conflict, match="PI_VOTE_SUBMIT is accepted only while the round is VOTING"):
        check_phase(A.PI_VOTE_SUBMIT, R.DISCUSSING)


# --- choices -------------------------------------------------------------------------------------


def test_a_choice_among_the_options_is_accepted() -> None:
    assert parse_choice({"choice": "B"}, OPTIONS) == "B"


def test_a_choice_is_trimmed_before_it_is_matched_to_the_options() -> None:
    assert parse_choice({"choice": "  C\n"}, OPTIONS) == "C"


def test_a_missing_choice_is_invalid() -> None:
    with pytest.raises(Invalid, match=r"payload\.choice"):
        parse_choice({}, OPTIONS)


@pytest.mark.parametrize("choice", [None, 1, 1.5, True, ["A"], {"value": "A"}])
def test_a_choice_that_is_not_a_string_is_invalid(choice: object) -> None:
    with pytest.raises(Invalid, match=r"payload\.choice"):
        parse_choice({"choice": choice}, OPTIONS)


@pytest.mark.parametrize("choice", ["", " ", "\t\n"])
def test_an_empty_choice_is_invalid(choice: str) -> None:
    with pytest.raises(Invalid, match=r"payload\.choice"):
        parse_choice({"choice": choice}, None)


def test_a_choice_of_the_maximum_length_is_accepted() -> None:
    assert parse_choice({"choice": "x" * CHOICE_MAX}, None) == "x" * 500


def test_a_choice_one_character_too_long_is_invalid() -> None:
    with pytest.raises(Invalid, match=r"1\.\.500"):
        parse_choice({"choice": "x" * (CHOICE_MAX + 1)}, None)


@pytest.mark.parametrize("choice", ["D", "a", "A B", "AB"])
def test_a_choice_not_among_the_options_is_invalid(choice: str) -> None:
    with pytest.raises(Invalid, match="one of the round's options"):
        parse_choice({"choice": choice}, OPTIONS)


@pytest.mark.parametrize("options", [None, []])
@pytest.mark.parametrize("choice", ["anything", "D", "42 is the answer", "ÿ ünïcode"])
def test_any_string_is_a_valid_choice_when_the_round_has_no_options(
    choice: str, options: list[str] | None
) -> None:
    assert parse_choice({"choice": choice}, options) == choice


def test_extra_payload_fields_beside_the_choice_are_ignored() -> None:
    assert parse_choice({"choice": "A", "confidence": 3}, OPTIONS) == "A"


# --- the scribe's explanation --------------------------------------------------------------------

NOT_SCRIBES = [role for role in SessionRole if role is not SessionRole.SCRIBE]


def test_the_scribe_submits_an_explanation_with_choice_and_key_terms() -> None:
    payload = {"explanation": "Because 2+2=4", "group_choice": "B", "key_terms": ["sum"]}

    explanation = parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)

    assert explanation == Explanation(
        explanation="Because 2+2=4", group_choice="B", key_terms=["sum"]
    )


def test_an_explanation_alone_has_no_group_choice_and_no_key_terms() -> None:
    explanation = parse_explanation({"explanation": "why"}, OPTIONS, SessionRole.SCRIBE)

    assert explanation.group_choice is None
    assert explanation.key_terms == []


def test_explanation_group_choice_and_key_terms_are_trimmed() -> None:
    payload = {"explanation": "  why \n", "group_choice": " A ", "key_terms": [" x ", "y\t"]}

    explanation = parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)

    assert explanation == Explanation(explanation="why", group_choice="A", key_terms=["x", "y"])


@pytest.mark.parametrize("role", [*NOT_SCRIBES, None], ids=[*map(str, NOT_SCRIBES), "none"])
def test_only_the_scribe_may_submit_the_explanation(role: SessionRole | None) -> None:
    with pytest.raises(Forbidden, match="SCRIBE"):
        parse_explanation({"explanation": "why"}, OPTIONS, role)


def test_a_non_scribe_is_forbidden_before_the_payload_is_even_validated() -> None:
    with pytest.raises(Forbidden):
        parse_explanation({"explanation": 7, "key_terms": "bad"}, OPTIONS, SessionRole.FACILITATOR)


@pytest.mark.parametrize(
    "payload",
    [{}, {"explanation": None}, {"explanation": ""}, {"explanation": "  "}, {"explanation": 5}],
)
def test_a_missing_or_empty_explanation_is_invalid(payload: dict[str, object]) -> None:
    with pytest.raises(Invalid, match=r"payload\.explanation"):
        parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)


def test_an_explanation_of_the_maximum_length_is_accepted_and_one_longer_is_invalid() -> None:
    accepted = parse_explanation({"explanation": "e" * EXPLANATION_MAX}, None, SessionRole.SCRIBE)
    assert len(accepted.explanation) == EXPLANATION_MAX == 5_000

    with pytest.raises(Invalid, match=r"payload\.explanation"):
        parse_explanation({"explanation": "e" * (EXPLANATION_MAX + 1)}, None, SessionRole.SCRIBE)


@pytest.mark.parametrize("group_choice", ["D", "a"])
def test_a_group_choice_not_among_the_options_is_invalid(group_choice: str) -> None:
    payload = {"explanation": "why", "group_choice": group_choice}

    with pytest.raises(Invalid, match="group_choice must be one of the round's options"):
        parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)


@pytest.mark.parametrize("group_choice", ["", "  ", 3, ["A"]])
def test_an_empty_or_non_string_group_choice_is_invalid(group_choice: object) -> None:
    payload = {"explanation": "why", "group_choice": group_choice}

    with pytest.raises(Invalid, match="group_choice"):
        parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)


def test_any_group_choice_is_accepted_when_the_round_has_no_options() -> None:
    payload = {"explanation": "why", "group_choice": "my own answer"}

    explanation = parse_explanation(payload, None, SessionRole.SCRIBE)

    assert explanation.group_choice == "my own answer"


def test_a_null_group_choice_and_null_key_terms_mean_none_given() -> None:
    payload = {"explanation": "why", "group_choice": None, "key_terms": None}

    explanation = parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)

    assert explanation == Explanation(explanation="why", group_choice=None, key_terms=[])


@pytest.mark.parametrize("key_terms", ["term", {"a": 1}, ("a",), 3])
def test_key_terms_that_are_not_a_list_are_invalid(key_terms: object) -> None:
    payload = {"explanation": "why", "key_terms": key_terms}

    with pytest.raises(Invalid, match="key_terms must be a list"):
        parse_explanation(payload, OPTIONS, SessionRole.SCRIBE)


def test_the_maximum_number_of_key_terms_is_accepted_and_one_more_is_invalid() -> None:
    terms = [f"t{i}" for i in range(KEY_TERMS_MAX)]
    accepted = parse_explanation(
        {"explanation": "why", "key_terms": terms}, None, SessionRole.SCRIBE
    )
    assert accepted.key_terms == terms
    assert len(terms) == 20

    with pytest.raises(Invalid, match="at most 20"):
        parse_explanation(
            {"explanation": "why", "key_terms": [*terms, "extra"]}, None, SessionRole.SCRIBE
        )


@pytest.mark.parametrize("term", ["", "   ", None, 7, "k" * (KEY_TERM_MAX + 1)])
def test_an_empty_non_string_or_too_long_key_term_is_invalid(term: object) -> None:
    payload = {"explanation": "why", "key_terms": ["ok", term]}

    with pytest.raises(Invalid, match="each key term"):
        parse_explanation(payload, None, SessionRole.SCRIBE)


def test_a_key_term_of_the_maximum_length_is_accepted() -> None:
    payload = {"explanation": "why", "key_terms": ["k" * KEY_TERM_MAX]}

    explanation = parse_explanation(payload, None, SessionRole.SCRIBE)

    assert explanation.key_terms == ["k" * 100]


# --- hiding choices ------------------------------------------------------------------------------

HIDDEN = {
    (A.PI_VOTE_SUBMIT, R.VOTING, False, False),
    (A.PI_REVOTE_SUBMIT, R.REVOTING, False, False),
}
CASES = list(product(ActivityType, RoundStatus, [False, True], [False, True]))


@pytest.mark.parametrize(
    ("activity", "status", "own", "viewer_facilitates"),
    CASES,
    ids=[
        f"{a}@{s}{'-own' if own else ''}{'-facilitator' if fac else ''}" for a, s, own, fac in CASES
    ],
)
def test_a_choice_is_hidden_only_from_peers_while_its_voting_phase_is_open(
    activity: ActivityType, status: RoundStatus, own: bool, viewer_facilitates: bool
) -> None:
    hidden = is_choice_hidden(activity, status, own=own, viewer_facilitates=viewer_facilitates)

    assert hidden is ((activity, status, own, viewer_facilitates) in HIDDEN)


def test_a_peers_vote_is_hidden_while_voting_and_shown_once_discussion_starts() -> None:
    assert is_choice_hidden(A.PI_VOTE_SUBMIT, R.VOTING, own=False, viewer_facilitates=False)
    assert not is_choice_hidden(A.PI_VOTE_SUBMIT, R.DISCUSSING, own=False, viewer_facilitates=False)


def test_the_facilitator_sees_a_peers_vote_while_voting_is_open() -> None:
    assert not is_choice_hidden(A.PI_VOTE_SUBMIT, R.VOTING, own=False, viewer_facilitates=True)


def test_voters_always_see_their_own_revote() -> None:
    assert not is_choice_hidden(A.PI_REVOTE_SUBMIT, R.REVOTING, own=True, viewer_facilitates=False)


def test_a_choice_is_trimmed_before_its_length_is_checked() -> None:
    option = "x" * CHOICE_MAX

    assert parse_choice({"choice": f" {option} "}, [option]) == option
