"""A round's results: vote tallies, switches from vote to revote, how many answered correctly,
the normalized change, and which of these a member may see while the round is still running."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum

from studygroups.domain.errors import Invalid
from studygroups.domain.rounds import RoundStatus

# Ballots by user id: {user_id: choice}.
Ballots = Mapping[str, str]

HUNDRED = Decimal(100)
PERCENT_STEP = Decimal("0.1")
CHANGE_STEP = Decimal("0.001")


class Phase(StrEnum):
    """The voting phase a tally closes (round.results' `phase`)."""

    VOTE = "VOTE"
    REVOTE = "REVOTE"


# The phase whose tally is final once a round leaves the status on the left.
CLOSES: dict[RoundStatus, Phase] = {
    RoundStatus.VOTING: Phase.VOTE,
    RoundStatus.REVOTING: Phase.REVOTE,
}


@dataclass(frozen=True)
class Tally:
    """How many chose each option (every option, zeros included), and how many voted."""

    counts: dict[str, int]
    total: int


@dataclass(frozen=True)
class Switch:
    """How many who voted `from_choice` revoted `to_choice` (equal when they kept their answer)."""

    from_choice: str
    to_choice: str
    count: int


@dataclass(frozen=True)
class Correctness:
    """Percentages 0..100 (one decimal) of correct votes and revotes, and the normalized change."""

    vote_pct: float | None
    revote_pct: float | None
    normalized_change: float | None


@dataclass(frozen=True)
class Results:
    vote: Tally
    revote: Tally
    switches: list[Switch]
    correct: Correctness | None


@dataclass(frozen=True)
class Reveal:
    """Which parts of a round's results a viewer sees now (`revote` covers the switches too)."""

    vote: bool
    revote: bool
    correct: bool


def _ordered(options: Sequence[str] | None, choices: Iterable[str]) -> list[str]:
    """The options in their order, then any other choice cast (options changed after a vote,
    or a round without options), sorted, so the counts always add up to the total."""
    listed = list(options or [])
    known = set(listed)
    return listed + sorted({choice for choice in choices if choice not in known})


def tally(ballots: Ballots, options: Sequence[str] | None) -> Tally:
    counted = Counter(ballots.values())
    return Tally(
        counts={choice: counted[choice] for choice in _ordered(options, counted)},
        total=len(ballots),
    )


def switches(votes: Ballots, revotes: Ballots, options: Sequence[str] | None) -> list[Switch]:
    """From each vote to each revote, over the users who did both; pairs nobody made are absent."""
    pairs = Counter((votes[user], revotes[user]) for user in votes.keys() & revotes.keys())
    order = {choice: position for position, choice in enumerate(_ordered(options, _flat(pairs)))}
    return [
        Switch(from_choice, to_choice, count)
        for (from_choice, to_choice), count in sorted(
            pairs.items(), key=lambda pair: (order[pair[0][0]], order[pair[0][1]])
        )
    ]


def _flat(pairs: Iterable[tuple[str, str]]) -> set[str]:
    return {choice for pair in pairs for choice in pair}


def percent(part: int, whole: int) -> float | None:
    """part / whole as a percentage rounded half up to one decimal; None when whole is 0."""
    if whole <= 0:
        return None
    exact = Decimal(part) * HUNDRED / Decimal(whole)
    return float(exact.quantize(PERCENT_STEP, rounding=ROUND_HALF_UP))


def normalized_change(vote_pct: float | None, revote_pct: float | None) -> float | None:
    """(revote - vote) / (100 - vote) over the reported percentages, rounded half away from
    zero to three decimals: 1 when everyone ends up correct, negative when fewer do; None when
    either percentage is missing or every vote was already correct."""
    if vote_pct is None or revote_pct is None:
        return None
    before, after = Decimal(str(vote_pct)), Decimal(str(revote_pct))
    if before >= HUNDRED:
        return None
    change = (after - before) / (HUNDRED - before)
    return float(change.quantize(CHANGE_STEP, rounding=ROUND_HALF_UP))


def correctness(votes: Ballots, revotes: Ballots, correct_option: str | None) -> Correctness | None:
    if correct_option is None:
        return None
    vote_pct = percent(sum(c == correct_option for c in votes.values()), len(votes))
    revote_pct = percent(sum(c == correct_option for c in revotes.values()), len(revotes))
    return Correctness(vote_pct, revote_pct, normalized_change(vote_pct, revote_pct))


def results(
    votes: Ballots, revotes: Ballots, options: Sequence[str] | None, correct_option: str | None
) -> Results:
    return Results(
        vote=tally(votes, options),
        revote=tally(revotes, options),
        switches=switches(votes, revotes, options),
        correct=correctness(votes, revotes, correct_option),
    )


def reveal(status: RoundStatus, *, facilitates: bool) -> Reveal:
    """Facilitators see everything live. Members see the votes once VOTING is over, revotes and
    switches once REVOTING is over, and the correct option only when the round is DONE."""
    if facilitates:
        return Reveal(vote=True, revote=True, correct=True)
    past_revoting = status in (RoundStatus.EXPLAINING, RoundStatus.DONE)
    return Reveal(
        vote=status not in (RoundStatus.CREATED, RoundStatus.VOTING),
        revote=past_revoting,
        correct=status is RoundStatus.DONE,
    )


class Unchanged(Enum):
    """A prompt update that leaves `correct_option` out (null is a value: it clears it)."""

    UNCHANGED = "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED


def clean_correct_option(correct_option: str | None, options: Sequence[str] | None) -> str | None:
    """A prompt's `correct_option`: trimmed, one of the round's options; None clears it."""
    if correct_option is None:
        return None
    cleaned = correct_option.strip()
    if not options:
        raise Invalid("correct_option needs the round's options")
    if cleaned not in options:
        raise Invalid("correct_option must be one of the round's options")
    return cleaned


def kept_correct_option(current: str | None, options: Sequence[str] | None) -> str | None:
    """A prompt update that leaves `correct_option` out keeps it while it is still an option."""
    return current if current is not None and options and current in options else None
