"""The round state machine (CREATED → VOTING → … → DONE), its gates and the prompt rules."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import StrEnum

from studygroups.domain.errors import Conflict, GateNotMet, Invalid


class RoundStatus(StrEnum):
    CREATED = "CREATED"
    VOTING = "VOTING"
    DISCUSSING = "DISCUSSING"
    REVOTING = "REVOTING"
    EXPLAINING = "EXPLAINING"
    DONE = "DONE"


ORDER: tuple[RoundStatus, ...] = tuple(RoundStatus)

PROMPT_MAX = 2_000
OPTION_MAX = 500
OPTIONS_MAX = 20
HIGHLIGHT_IDS_MAX = 100


def next_status(current: RoundStatus) -> RoundStatus | None:
    """The one status a round may move to next, or None once DONE."""
    position = ORDER.index(current)
    return ORDER[position + 1] if position + 1 < len(ORDER) else None


def check_advance(
    current: RoundStatus,
    target: RoundStatus,
    *,
    members: Sequence[str],
    voted: Collection[str],
    revoted: Collection[str],
    has_explanation: bool,
    force: bool,
) -> None:
    """Refuse any move but one step forward, and any step whose gate is not met.

    DISCUSSING needs every member's vote and EXPLAINING every member's revote, unless forced;
    DONE always needs the group's explanation.
    """
    expected = next_status(current)
    if target is not expected:
        legal = f"only {expected} is next" if expected else "the round is DONE"
        raise Conflict(f"the round cannot go from {current} to {target}: {legal}")
    if target is RoundStatus.DISCUSSING and not force:
        _check_everyone(members, voted, "vote")
    elif target is RoundStatus.EXPLAINING and not force:
        _check_everyone(members, revoted, "revote")
    elif target is RoundStatus.DONE and not has_explanation:
        raise GateNotMet("the round needs the group's explanation first", 1, 0, [])


def _check_everyone(members: Sequence[str], acted: Collection[str], what: str) -> None:
    missing = [user_id for user_id in members if user_id not in acted]
    if missing:
        required = len(members)
        raise GateNotMet(
            f"waiting for {len(missing)} of {required} members to {what}",
            required=required,
            current=required - len(missing),
            missing=missing,
        )


def check_round_index(round_index: int, rounds_count: int) -> None:
    if not 1 <= round_index <= rounds_count:
        raise Invalid(f"round_index must be 1..{rounds_count}")


def clean_prompt(
    prompt_text: str, options: Sequence[str] | None, linked_highlight_ids: Sequence[str] | None
) -> tuple[str, list[str] | None, list[str] | None]:
    """Trim the prompt and options; refuse empty, oversized or duplicate entries."""
    text = prompt_text.strip()
    if not text or len(text) > PROMPT_MAX:
        raise Invalid(f"prompt_text must be 1..{PROMPT_MAX} characters")
    cleaned_options: list[str] | None = None
    if options is not None:
        cleaned_options = [option.strip() for option in options]
        if len(cleaned_options) > OPTIONS_MAX:
            raise Invalid(f"at most {OPTIONS_MAX} options")
        if any(not option or len(option) > OPTION_MAX for option in cleaned_options):
            raise Invalid(f"each option must be 1..{OPTION_MAX} characters")
        if len(set(cleaned_options)) != len(cleaned_options):
            raise Invalid("options must be distinct")
    highlights: list[str] | None = None
    if linked_highlight_ids is not None:
        highlights = list(linked_highlight_ids)
        if len(highlights) > HIGHLIGHT_IDS_MAX:
            raise Invalid(f"at most {HIGHLIGHT_IDS_MAX} linked_highlight_ids")
    return text, cleaned_options, highlights
