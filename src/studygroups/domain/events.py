"""Durable session events: wire name plus the seed's camelCase payload.

`seq` and `timestamp` are added by the event log when the event is stored, inside the
transaction of the change that caused it (see docs/architecture.md, "The event pipeline").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from studygroups.domain.activity import ActivityType
from studygroups.domain.results import Phase
from studygroups.domain.rounds import RoundStatus

JsonObject = dict[str, object]

# The seq ceilings, both here. The log stores seq as a 32-bit INTEGER: a REST `after_seq` above
# SEQ_STORED_MAX cannot match and would overflow the driver, so it is refused. A socket's
# `lastSeq` never reaches the database (it is compared with the head only): any JSON-safe
# integer up to SEQ_WIRE_MAX is accepted, and one beyond the head answers `resync`.
SEQ_STORED_MAX = 2**31 - 1
SEQ_WIRE_MAX = 2**53


@dataclass(frozen=True)
class DomainEvent(ABC):
    """Base of every durable event; `name` is the Socket.IO event name."""

    name: ClassVar[str]
    session_id: str

    @abstractmethod
    def payload(self) -> JsonObject:
        """The seed's camelCase fields of this event (without seq and timestamp)."""


@dataclass(frozen=True)
class SessionStarted(DomainEvent):
    name: ClassVar[str] = "session.started"
    started_by: str

    def payload(self) -> JsonObject:
        return {"sessionId": self.session_id, "status": "RUNNING", "startedBy": self.started_by}


@dataclass(frozen=True)
class SessionEnded(DomainEvent):
    name: ClassVar[str] = "session.ended"

    def payload(self) -> JsonObject:
        return {"sessionId": self.session_id, "status": "FINISHED"}


@dataclass(frozen=True)
class SessionStatusChanged(DomainEvent):
    """A move that neither starts nor ends the session (RUNNING → POST); beyond the seed."""

    name: ClassVar[str] = "session.statusChanged"
    status: str

    def payload(self) -> JsonObject:
        return {"sessionId": self.session_id, "status": self.status}


@dataclass(frozen=True)
class RoundAdvanced(DomainEvent):
    name: ClassVar[str] = "round.advanced"
    round_id: str
    round_index: int
    status: RoundStatus
    previous_status: RoundStatus
    # Revealed only by the advance to DONE; no other round.advanced carries the key.
    correct_option: str | None = None
    # The new phase's deadline (ISO) and length; None for DONE. `auto`: the phase clock moved it.
    ends_at: str | None = None
    duration_sec: int | None = None
    auto: bool = False

    def payload(self) -> JsonObject:
        payload: JsonObject = {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "status": str(self.status),
            "previousStatus": str(self.previous_status),
            "endsAt": self.ends_at,
            "durationSec": self.duration_sec,
            "auto": self.auto,
        }
        if self.status is RoundStatus.DONE:
            payload["correctOption"] = self.correct_option
        return payload


@dataclass(frozen=True)
class PromptUpdated(DomainEvent):
    name: ClassVar[str] = "prompt.updated"
    round_id: str
    round_index: int
    prompt: str
    options: list[str] | None

    def payload(self) -> JsonObject:
        return {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "prompt": self.prompt,
            "options": self.options,
        }


@dataclass(frozen=True)
class _BallotCast(DomainEvent):
    """A vote or revote: who voted, never what (peers must not see answers before discussion)."""

    activity: ClassVar[ActivityType]
    round_id: str
    round_index: int
    user_id: str

    def payload(self) -> JsonObject:
        return {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "userId": self.user_id,
            "eventType": str(self.activity),
        }


@dataclass(frozen=True)
class VoteSubmitted(_BallotCast):
    name: ClassVar[str] = "vote.submitted"
    activity: ClassVar[ActivityType] = ActivityType.PI_VOTE_SUBMIT


@dataclass(frozen=True)
class RevoteSubmitted(_BallotCast):
    name: ClassVar[str] = "revote.submitted"
    activity: ClassVar[ActivityType] = ActivityType.PI_REVOTE_SUBMIT


@dataclass(frozen=True)
class SharedCardCreated(DomainEvent):
    name: ClassVar[str] = "sharedCard.created"
    round_id: str
    round_index: int
    card_id: str

    def payload(self) -> JsonObject:
        return {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "cardId": self.card_id,
        }


@dataclass(frozen=True)
class ChatMessagePosted(DomainEvent):
    name: ClassVar[str] = "chat.message"
    message_id: str
    round_index: int
    message: str
    user_id: str
    user_name: str

    def payload(self) -> JsonObject:
        return {
            "id": self.message_id,
            "sessionId": self.session_id,
            "roundIndex": self.round_index,
            "message": self.message,
            "userId": self.user_id,
            "userName": self.user_name,
        }


@dataclass(frozen=True)
class RoundResults(DomainEvent):
    """The final tally of a voting phase, recorded right after the advance that closes it."""

    name: ClassVar[str] = "round.results"
    round_id: str
    round_index: int
    phase: Phase
    counts: dict[str, int]
    total: int

    def payload(self) -> JsonObject:
        return {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "phase": str(self.phase),
            "counts": dict(self.counts),
            "total": self.total,
        }


@dataclass(frozen=True)
class RoundTimerChanged(DomainEvent):
    """A facilitator or the TIMEKEEPER paused, resumed, extended or set a round's timer."""

    name: ClassVar[str] = "round.timerChanged"
    round_id: str
    round_index: int
    status: RoundStatus
    action: str
    state: str
    ends_at: str | None
    remaining_sec: float | None
    by: str

    def payload(self) -> JsonObject:
        return {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "status": str(self.status),
            "action": self.action,
            "state": self.state,
            "endsAt": self.ends_at,
            "remainingSec": self.remaining_sec,
            "by": self.by,
        }


@dataclass(frozen=True)
class RoundTimeUp(DomainEvent):
    """A RUNNING deadline passed; recorded once, by whichever process claimed it."""

    name: ClassVar[str] = "round.timeUp"
    round_id: str
    round_index: int
    status: RoundStatus
    ends_at: str

    def payload(self) -> JsonObject:
        return {
            "sessionId": self.session_id,
            "roundId": self.round_id,
            "roundIndex": self.round_index,
            "status": str(self.status),
            "endsAt": self.ends_at,
        }


@dataclass(frozen=True)
class SessionSettingsChanged(DomainEvent):
    name: ClassVar[str] = "session.settingsChanged"
    auto_advance: bool
    by: str

    def payload(self) -> JsonObject:
        return {"sessionId": self.session_id, "autoAdvance": self.auto_advance, "by": self.by}
