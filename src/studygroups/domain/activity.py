"""Submitted activity: votes, revotes and the scribe's explanation, and when each is accepted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from studygroups.domain.errors import Conflict, Forbidden, Invalid
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.sessions import SessionRole


class ActivityType(StrEnum):
    PI_VOTE_SUBMIT = "PI_VOTE_SUBMIT"
    PI_REVOTE_SUBMIT = "PI_REVOTE_SUBMIT"
    GROUP_EXPLANATION_SUBMIT = "GROUP_EXPLANATION_SUBMIT"


# The round status in which each kind of activity is accepted.
ACCEPTED_IN: dict[ActivityType, RoundStatus] = {
    ActivityType.PI_VOTE_SUBMIT: RoundStatus.VOTING,
    ActivityType.PI_REVOTE_SUBMIT: RoundStatus.REVOTING,
    ActivityType.GROUP_EXPLANATION_SUBMIT: RoundStatus.EXPLAINING,
}

CHOICE_MAX = 500
EXPLANATION_MAX = 5_000
KEY_TERMS_MAX = 20
KEY_TERM_MAX = 100


@dataclass(frozen=True)
class Explanation:
    explanation: str
    group_choice: str | None
    key_terms: list[str]


def parse_activity_type(value: str) -> ActivityType:
    try:
        return ActivityType(value)
    except ValueError:
        allowed = ", ".join(ActivityType)
        raise Invalid(f"unknown event_type {value!r}; expected one of {allowed}") from None


def check_phase(activity: ActivityType, round_status: RoundStatus) -> None:
    expected = ACCEPTED_IN[activity]
    if round_status is not expected:
        raise Conflict(f"{activity} is accepted only while the round is {expected}")


def parse_choice(payload: Mapping[str, object], options: Sequence[str] | None) -> str:
    """A vote's `choice`: a non-empty string, one of the round's options when it has any."""
    choice = payload.get("choice")
    if isinstance(choice, str):
        choice = choice.strip()
    if not isinstance(choice, str) or not choice or len(choice) > CHOICE_MAX:
        raise Invalid(f"payload.choice must be a string of 1..{CHOICE_MAX} characters")
    if options and choice not in options:
        raise Invalid("payload.choice must be one of the round's options")
    return choice


def parse_explanation(
    payload: Mapping[str, object], options: Sequence[str] | None, role: SessionRole | None
) -> Explanation:
    """The SCRIBE's explanation, with an optional group choice and key terms."""
    if role is not SessionRole.SCRIBE:
        raise Forbidden("only the session's SCRIBE may submit the group explanation")
    text = payload.get("explanation")
    if not isinstance(text, str) or not text.strip() or len(text) > EXPLANATION_MAX:
        raise Invalid(f"payload.explanation must be a string of 1..{EXPLANATION_MAX} characters")
    group_choice = payload.get("group_choice")
    if group_choice is not None:
        if not isinstance(group_choice, str) or not group_choice.strip():
            raise Invalid("payload.group_choice must be a non-empty string")
        group_choice = group_choice.strip()
        if options and group_choice not in options:
            raise Invalid("payload.group_choice must be one of the round's options")
    raw_terms = payload.get("key_terms", [])
    if raw_terms is None:
        raw_terms = []
    if not isinstance(raw_terms, list) or len(raw_terms) > KEY_TERMS_MAX:
        raise Invalid(f"payload.key_terms must be a list of at most {KEY_TERMS_MAX} strings")
    terms: list[str] = []
    for term in raw_terms:
        if not isinstance(term, str) or not term.strip() or len(term) > KEY_TERM_MAX:
            raise Invalid(f"each key term must be a string of 1..{KEY_TERM_MAX} characters")
        terms.append(term.strip())
    return Explanation(explanation=text.strip(), group_choice=group_choice, key_terms=terms)


def is_choice_hidden(
    activity: ActivityType, round_status: RoundStatus, *, own: bool, viewer_facilitates: bool
) -> bool:
    """Another member's choice stays hidden while its voting phase is still open.

    The voter and the facilitator always see it; everyone sees it once the phase has passed.
    """
    if own or viewer_facilitates or activity is ActivityType.GROUP_EXPLANATION_SUBMIT:
        return False
    return round_status is ACCEPTED_IN[activity]
