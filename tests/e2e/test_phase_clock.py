"""The phase clock seen by clients of a real server: time up, auto-advance, and recovery.

Deadlines are made short with the timer's `set` action (seconds ≥ 1), so no test waits more
than about a second for one on the real clock.
"""

from __future__ import annotations

import httpx

from tests.e2e.clients import Peers
from tests.support import Scenario, make_session

MEMBERS = ["ana", "bo", "cy"]  # FACILITATOR, SCRIBE, TIMEKEEPER


async def _set_timer(scenario: Scenario, seconds: int, user: str = "cy") -> None:
    await scenario.call(
        "POST",
        f"/group-sessions/{scenario.session_id}/rounds/1/timer",
        user,
        {"action": "set", "seconds": seconds},
        expect=200,
    )


async def test_time_up_then_the_auto_advance_then_results_reach_clients_in_adjacent_seqs(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, MEMBERS, auto_advance=True)
    bo = await live_peers.joined("bo", scenario.session_id)
    await scenario.advance(1, "VOTING")
    await scenario.submit("bo", 1, "PI_VOTE_SUBMIT", {"choice": "A"})

    await _set_timer(scenario, 1)

    await bo.wait_for("round.results")
    tail = bo.durable()[-3:]
    assert [name for name, _ in tail] == ["round.timeUp", "round.advanced", "round.results"]
    seqs = [data["seq"] for _, data in tail]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    time_up, advanced = tail[0][1], tail[1][1]
    assert time_up["status"] == "VOTING"
    assert time_up["endsAt"] == bo.of("round.timerChanged")[0]["endsAt"]
    assert (advanced["status"], advanced["auto"]) == ("DISCUSSING", True)
    assert advanced["durationSec"] == 180 and advanced["endsAt"] is not None


async def test_a_client_recovering_with_last_seq_gets_the_timer_events_it_missed(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, MEMBERS)
    ana = await live_peers.joined("ana", scenario.session_id)
    bo = await live_peers.joined("bo", scenario.session_id)
    await scenario.advance(1, "VOTING")
    await bo.wait_for("round.advanced")
    last_seen = bo.seqs()[-1]
    await bo.disconnect()

    await _set_timer(scenario, 1)
    await ana.wait_for("round.timeUp")
    back = await live_peers.connect("bo", label="bo-back")
    ack = await back.join_ok(scenario.session_id, lastSeq=last_seen)

    assert [item["event"] for item in ack["missed"]] == ["round.timerChanged", "round.timeUp"]
    assert [item["data"] for item in ack["missed"]] == [
        data for _, data in ana.durable() if data["seq"] > last_seen
    ]


async def test_a_paused_timer_does_not_fire(
    live_peers: Peers, live_rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(live_rest, MEMBERS)
    ana = await live_peers.joined("ana", scenario.session_id)
    await scenario.advance(1, "VOTING")
    await _set_timer(scenario, 1)
    await scenario.call(
        "POST",
        f"/group-sessions/{scenario.session_id}/rounds/1/timer",
        "ana",
        {"action": "pause"},
        expect=200,
    )
    # A second deadline, one second on, in another session: once it fired, the first one's
    # moment has passed too.
    other = await make_session(live_rest, MEMBERS)
    watcher = await live_peers.joined("ana", other.session_id)
    await other.advance(1, "VOTING")
    await _set_timer(other, 1)

    await watcher.wait_for("round.timeUp")
    await ana.settle()

    assert "round.timeUp" not in ana.names()
