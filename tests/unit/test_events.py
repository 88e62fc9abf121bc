"""Durable events: the Socket.IO wire names and the seed's camelCase payload fields."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re

import pytest

from studygroups.domain.events import (
    ChatMessagePosted,
    DomainEvent,
    PromptUpdated,
    RevoteSubmitted,
    RoundAdvanced,
    RoundResults,
    SessionEnded,
    SessionStarted,
    SessionStatusChanged,
    SharedCardCreated,
    VoteSubmitted,
)
from studygroups.domain.results import Phase
from studygroups.domain.rounds import RoundStatus

CAMEL_CASE = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")

SESSION_STARTED = SessionStarted(session_id="s1", started_by="u1")
SESSION_ENDED = SessionEnded(session_id="s1")
ROUND_ADVANCED = RoundAdvanced(
    session_id="s1",
    round_id="r1",
    round_index=2,
    status=RoundStatus.VOTING,
    previous_status=RoundStatus.CREATED,
)
PROMPT_UPDATED = PromptUpdated(
    session_id="s1", round_id="r1", round_index=2, prompt="What is 2+2?", options=["3", "4"]
)
VOTE_SUBMITTED = VoteSubmitted(session_id="s1", round_id="r1", round_index=2, user_id="u2")
REVOTE_SUBMITTED = RevoteSubmitted(session_id="s1", round_id="r1", round_index=2, user_id="u2")
SHARED_CARD_CREATED = SharedCardCreated(session_id="s1", round_id="r1", round_index=2, card_id="c1")
CHAT_MESSAGE = ChatMessagePosted(
    session_id="s1",
    message_id="m1",
    round_index=2,
    message="I think it is 4",
    user_id="u3",
    user_name="Ana",
)
STATUS_CHANGED = SessionStatusChanged(session_id="s1", status="POST")

# The seed's fields (API.md §2, server → client), `timestamp` aside: the log adds it.
SEED_FIELDS: list[tuple[DomainEvent, str, dict[str, object]]] = [
    (
        SESSION_STARTED,
        "session.started",
        {"sessionId": "s1", "status": "RUNNING", "startedBy": "u1"},
    ),
    (SESSION_ENDED, "session.ended", {"sessionId": "s1", "status": "FINISHED"}),
    (
        ROUND_ADVANCED,
        "round.advanced",
        {"sessionId": "s1", "roundId": "r1", "roundIndex": 2, "status": "VOTING"},
    ),
    (
        PROMPT_UPDATED,
        "prompt.updated",
        {"sessionId": "s1", "roundId": "r1", "roundIndex": 2, "prompt": "What is 2+2?"},
    ),
    (
        VOTE_SUBMITTED,
        "vote.submitted",
        {
            "sessionId": "s1",
            "roundId": "r1",
            "roundIndex": 2,
            "userId": "u2",
            "eventType": "PI_VOTE_SUBMIT",
        },
    ),
    (
        REVOTE_SUBMITTED,
        "revote.submitted",
        {
            "sessionId": "s1",
            "roundId": "r1",
            "roundIndex": 2,
            "userId": "u2",
            "eventType": "PI_REVOTE_SUBMIT",
        },
    ),
    (
        SHARED_CARD_CREATED,
        "sharedCard.created",
        {"sessionId": "s1", "roundId": "r1", "roundIndex": 2},
    ),
    (
        CHAT_MESSAGE,
        "chat.message",
        {
            "id": "m1",
            "sessionId": "s1",
            "roundIndex": 2,
            "message": "I think it is 4",
            "userId": "u3",
            "userName": "Ana",
        },
    ),
]
IDS = [name for _, name, _ in SEED_FIELDS]
ALL_EVENTS = [event for event, _, _ in SEED_FIELDS] + [STATUS_CHANGED]


@pytest.mark.parametrize(("event", "wire_name", "fields"), SEED_FIELDS, ids=IDS)
def test_each_event_has_the_seeds_wire_name(
    event: DomainEvent, wire_name: str, fields: dict[str, object]
) -> None:
    assert event.name == wire_name
    assert type(event).name == wire_name


@pytest.mark.parametrize(("event", "wire_name", "fields"), SEED_FIELDS, ids=IDS)
def test_each_payload_carries_every_seed_field_with_its_value(
    event: DomainEvent, wire_name: str, fields: dict[str, object]
) -> None:
    payload = event.payload()

    assert {key: payload.get(key) for key in fields} == fields


@pytest.mark.parametrize("event", ALL_EVENTS, ids=[*IDS, "session.statusChanged"])
def test_every_payload_field_is_camel_case(event: DomainEvent) -> None:
    snake_or_other = [key for key in event.payload() if not CAMEL_CASE.match(key)]

    assert snake_or_other == []


@pytest.mark.parametrize("event", ALL_EVENTS, ids=[*IDS, "session.statusChanged"])
def test_every_payload_is_plain_json_with_string_enums(event: DomainEvent) -> None:
    payload = event.payload()

    assert json.loads(json.dumps(payload)) == payload
    assert all(type(value) in (str, int, bool, list, type(None)) for value in payload.values())


def test_session_started_has_exactly_session_id_status_and_started_by() -> None:
    assert SESSION_STARTED.payload() == {
        "sessionId": "s1",
        "status": "RUNNING",
        "startedBy": "u1",
    }


def test_session_ended_has_exactly_session_id_and_finished_status() -> None:
    assert SESSION_ENDED.payload() == {"sessionId": "s1", "status": "FINISHED"}


def test_vote_submitted_has_exactly_the_seed_fields_and_no_choice() -> None:
    payload = VOTE_SUBMITTED.payload()

    assert set(payload) == {"sessionId", "roundId", "roundIndex", "userId", "eventType"}
    assert payload["eventType"] == "PI_VOTE_SUBMIT"
    assert "choice" not in payload


def test_revote_submitted_has_exactly_the_seed_fields_and_no_choice() -> None:
    payload = REVOTE_SUBMITTED.payload()

    assert set(payload) == {"sessionId", "roundId", "roundIndex", "userId", "eventType"}
    assert payload["eventType"] == "PI_REVOTE_SUBMIT"
    assert "choice" not in payload


def test_vote_events_cannot_be_built_with_a_choice() -> None:
    field_names = {field.name for field in dataclasses.fields(VoteSubmitted)}
    field_names |= {field.name for field in dataclasses.fields(RevoteSubmitted)}

    assert field_names == {"session_id", "round_id", "round_index", "user_id"}


def test_chat_message_has_exactly_id_session_round_message_user_and_user_name() -> None:
    assert set(CHAT_MESSAGE.payload()) == {
        "id",
        "sessionId",
        "roundIndex",
        "message",
        "userId",
        "userName",
    }


def test_round_advanced_reports_the_new_status_as_a_plain_string() -> None:
    status = ROUND_ADVANCED.payload()["status"]

    assert status == "VOTING"
    assert type(status) is str


def test_prompt_updated_also_carries_the_options() -> None:
    assert PROMPT_UPDATED.payload()["options"] == ["3", "4"]


def test_a_move_to_post_is_announced_as_session_status_changed() -> None:
    assert STATUS_CHANGED.name == "session.statusChanged"
    assert STATUS_CHANGED.payload() == {"sessionId": "s1", "status": "POST"}


def test_wire_names_are_unique() -> None:
    names = [event.name for event in ALL_EVENTS]

    assert len(names) == len(set(names))


def test_events_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        VOTE_SUBMITTED.user_id = "someone-else"  # type: ignore[misc]


def test_the_base_event_cannot_be_made_without_a_payload_of_its_own() -> None:
    with pytest.raises(TypeError):
        DomainEvent(session_id="s1")  # type: ignore[abstract]


def test_only_the_advance_to_done_carries_the_correct_option() -> None:
    def advanced(status: RoundStatus, previous: RoundStatus) -> RoundAdvanced:
        return RoundAdvanced("s1", "r1", 2, status, previous, correct_option="4")

    done = advanced(RoundStatus.DONE, RoundStatus.EXPLAINING).payload()
    unset = RoundAdvanced("s1", "r1", 2, RoundStatus.DONE, RoundStatus.EXPLAINING).payload()
    earlier = [advanced(s, p).payload() for p, s in itertools.pairwise(list(RoundStatus)[:-1])]

    assert (done["correctOption"], unset["correctOption"]) == ("4", None)
    assert all("correctOption" not in payload for payload in earlier)
    assert all("4" not in json.dumps(payload) for payload in earlier)


def test_prompt_updated_cannot_be_built_with_a_correct_option() -> None:
    assert "correct_option" not in {field.name for field in dataclasses.fields(PromptUpdated)}


def test_round_results_carries_the_closed_phase_its_counts_and_total_as_plain_json() -> None:
    event = RoundResults("s1", "r1", 2, Phase.REVOTE, counts={"3": 1, "4": 2}, total=3)

    assert event.name == "round.results"
    assert event.payload() == {
        "sessionId": "s1",
        "roundId": "r1",
        "roundIndex": 2,
        "phase": "REVOTE",
        "counts": {"3": 1, "4": 2},
        "total": 3,
    }
    assert json.dumps(event.payload())
