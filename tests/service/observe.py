"""What a client can observe of a session over REST, to compare before and after a request."""

from __future__ import annotations

import re
from typing import Any

from tests.support import Scenario

# ISO 8601 in UTC with milliseconds and `Z`, as API.md asks of every timestamp.
ISO_UTC_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


async def snapshot(scenario: Scenario, viewer: str | None = None) -> dict[str, Any]:
    """The session, its activity, chat and event log as `viewer` (default: the owner) sees them."""
    user = viewer or scenario.owner
    session_path = f"/group-sessions/{scenario.session_id}"
    chat_path = f"/groups/{scenario.group_id}/sessions/{scenario.session_id}/chat"
    session = await scenario.call("GET", session_path, user, expect=200)
    activity = await scenario.call("GET", f"{session_path}/events", user, expect=200)
    chat = await scenario.call("GET", chat_path, user, expect=200)
    feed = await scenario.call("GET", f"{session_path}/feed", user, expect=200)
    return {
        "session": _without_clock(session.json()),
        "activity": activity.json(),
        "chat": chat.json(),
        "feed": feed.json(),
    }


def _without_clock(session: dict[str, Any]) -> dict[str, Any]:
    """The session minus what moves with the clock alone (server_time, a timer counting down)."""
    session.pop("server_time", None)
    for round_ in session.get("rounds", []):
        round_.get("timer", {}).pop("remaining_sec", None)
    return session


async def feed_events(scenario: Scenario, viewer: str | None = None) -> list[dict[str, Any]]:
    """Every stored event of the session, in order."""
    response = await scenario.call(
        "GET",
        f"/group-sessions/{scenario.session_id}/feed",
        viewer or scenario.owner,
        expect=200,
        params={"limit": 1000},
    )
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def session_seq(scenario: Scenario) -> int:
    response = await scenario.call(
        "GET", f"/group-sessions/{scenario.session_id}", scenario.owner, expect=200
    )
    seq: int = response.json()["seq"]
    return seq


def round_of(session: dict[str, Any], round_index: int) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in session["rounds"] if r["round_index"] == round_index)
    return found
