"""Results over Socket.IO: `round.results` right after the advance that closes a voting phase,
and the correct option kept off the wire until the round is DONE."""

from __future__ import annotations

import httpx

from tests.e2e.clients import Peers
from tests.support import Scenario, make_session

OPTIONS = ["feather", "hammer", "same"]
CORRECT = "same"
VOTES = {"ana": "same", "bo": "hammer", "cy": "same"}


async def _prompt(scenario: Scenario, correct: str | None) -> None:
    await scenario.call(
        "PATCH",
        f"/group-sessions/{scenario.session_id}/rounds/1/prompt",
        scenario.facilitator,
        {
            "prompt_text": "Which falls faster in vacuum?",
            "options": OPTIONS,
            "correct_option": correct,
        },
        expect=200,
    )


async def test_a_socket_receives_round_results_right_after_the_advance_closing_voting(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    cy = await peers.joined("cy", scenario.session_id)
    await _prompt(scenario, CORRECT)
    await scenario.advance(1, "VOTING")
    for user, choice in VOTES.items():
        await scenario.submit(user, 1, "PI_VOTE_SUBMIT", {"choice": choice})

    await scenario.advance(1, "DISCUSSING")
    [tally] = await cy.wait_for("round.results")
    await cy.settle()

    (closing_name, closing), (name, data) = cy.durable()[-2:]
    assert (closing_name, closing["status"], closing["previousStatus"]) == (
        "round.advanced",
        "DISCUSSING",
        "VOTING",
    )
    assert name == "round.results" and data == tally
    assert data["seq"] == closing["seq"] + 1
    assert {k: data[k] for k in ("sessionId", "roundId", "roundIndex", "phase", "total")} == {
        "sessionId": scenario.session_id,
        "roundId": closing["roundId"],
        "roundIndex": 1,
        "phase": "VOTE",
        "total": 3,
    }
    assert data["counts"] == {"feather": 0, "hammer": 1, "same": 2}


async def test_prompt_updated_never_carries_the_correct_option_while_the_advance_to_done_does(
    peers: Peers, rest: httpx.AsyncClient
) -> None:
    scenario = await make_session(rest, ["ana", "bo", "cy"])
    cy = await peers.joined("cy", scenario.session_id)

    await _prompt(scenario, CORRECT)
    await scenario.advance(1, "VOTING")
    for user, choice in VOTES.items():
        await scenario.submit(user, 1, "PI_VOTE_SUBMIT", {"choice": choice})
    await scenario.advance(1, "DISCUSSING")
    await scenario.advance(1, "REVOTING")
    await scenario.advance(1, "EXPLAINING", force=True)
    await scenario.submit(scenario.scribe, 1, "GROUP_EXPLANATION_SUBMIT", {"explanation": "g"})
    await scenario.advance(1, "DONE")
    [*_, done] = await cy.wait_for("round.advanced", 5)
    await cy.settle()

    [prompt] = cy.of("prompt.updated")
    assert prompt["options"] == OPTIONS
    assert "correctOption" not in prompt
    assert done["status"] == "DONE"
    assert done["correctOption"] == CORRECT
    earlier = [data for _, data in cy.durable() if data["seq"] < done["seq"]]
    assert all("correctOption" not in data for data in earlier)
