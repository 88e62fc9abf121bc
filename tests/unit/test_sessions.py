"""Session lifecycle, settings and the deterministic dealing of roles."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studygroups.domain.errors import Conflict, Invalid
from studygroups.domain.sessions import (
    LAYER_TIMERS,
    Layer,
    SessionRole,
    SessionStatus,
    Timers,
    check_enough_members,
    check_not_finished,
    check_rounds_count,
    check_running,
    check_session_transition,
    deal_roles,
)

ROLE_ORDER = [
    SessionRole.FACILITATOR,
    SessionRole.SCRIBE,
    SessionRole.TIMEKEEPER,
    SessionRole.CLARIFIER,
    SessionRole.CONNECTOR,
]

_member_ids = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6),
    min_size=1,
    max_size=12,
    unique=True,
)
_finished = st.integers(min_value=0, max_value=10_000)


def _rotated_left(items: list[str], shift: int) -> list[str]:
    return items[shift:] + items[:shift]


# --- deal_roles: properties ----------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(member_ids=_member_ids, finished=_finished)
def test_every_member_is_dealt_exactly_one_role(member_ids: list[str], finished: int) -> None:
    roles = deal_roles(member_ids, finished)

    assert sorted(roles) == sorted(member_ids)
    assert all(isinstance(role, SessionRole) for role in roles.values())


@settings(max_examples=100, deadline=None)
@given(member_ids=_member_ids, finished=_finished)
def test_roles_follow_sorted_ids_rotated_by_finished_sessions_then_participants(
    member_ids: list[str], finished: int
) -> None:
    n = len(member_ids)
    order = _rotated_left(sorted(member_ids), finished % n)

    roles = deal_roles(member_ids, finished)

    dealt = [roles[user_id] for user_id in order]
    assert dealt[: min(n, 5)] == ROLE_ORDER[: min(n, 5)]
    assert dealt[5:] == [SessionRole.PARTICIPANT] * max(0, n - 5)


@settings(max_examples=100, deadline=None)
@given(member_ids=_member_ids, finished=_finished)
def test_each_special_role_goes_to_at_most_one_member(member_ids: list[str], finished: int) -> None:
    roles = list(deal_roles(member_ids, finished).values())

    for role in ROLE_ORDER:
        assert roles.count(role) == (1 if ROLE_ORDER.index(role) < len(member_ids) else 0)
    assert roles.count(SessionRole.PARTICIPANT) == max(0, len(member_ids) - 5)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), member_ids=_member_ids, finished=_finished)
def test_dealing_is_deterministic_whatever_the_input_order(
    data: st.DataObject, member_ids: list[str], finished: int
) -> None:
    shuffled = data.draw(st.permutations(member_ids))

    assert deal_roles(shuffled, finished) == deal_roles(member_ids, finished)
    assert deal_roles(iter(shuffled), finished) == deal_roles(tuple(member_ids), finished)


@settings(max_examples=100, deadline=None)
@given(member_ids=_member_ids, finished=_finished)
def test_duplicate_ids_are_dealt_as_one_member(member_ids: list[str], finished: int) -> None:
    assert deal_roles(member_ids + member_ids[:2], finished) == deal_roles(member_ids, finished)


@settings(max_examples=100, deadline=None)
@given(member_ids=_member_ids, finished=_finished)
def test_rotating_by_the_number_of_members_deals_the_same_roles(
    member_ids: list[str], finished: int
) -> None:
    n = len(member_ids)

    assert deal_roles(member_ids, finished + n) == deal_roles(member_ids, finished)


@settings(max_examples=100, deadline=None)
@given(member_ids=_member_ids, finished=_finished)
def test_each_finished_session_hands_facilitator_to_the_next_member_by_id(
    member_ids: list[str], finished: int
) -> None:
    ordered = sorted(member_ids)

    def facilitator(count: int) -> str:
        roles = deal_roles(member_ids, count)
        return next(u for u, role in roles.items() if role is SessionRole.FACILITATOR)

    before = ordered.index(facilitator(finished))
    after = ordered.index(facilitator(finished + 1))

    assert after == (before + 1) % len(ordered)


def test_no_members_are_dealt_no_roles() -> None:
    assert deal_roles([], 3) == {}


# --- deal_roles: examples ------------------------------------------------------------------------


def test_two_members_get_facilitator_and_scribe_by_sorted_id() -> None:
    assert deal_roles(["bob", "ana"], 0) == {
        "ana": SessionRole.FACILITATOR,
        "bob": SessionRole.SCRIBE,
    }


def test_two_members_swap_roles_after_one_finished_session() -> None:
    assert deal_roles(["bob", "ana"], 1) == {
        "bob": SessionRole.FACILITATOR,
        "ana": SessionRole.SCRIBE,
    }


def test_seven_members_after_three_finished_sessions() -> None:
    members = ["u7", "u3", "u1", "u5", "u2", "u6", "u4"]

    roles = deal_roles(members, 3)

    assert roles == {
        "u4": SessionRole.FACILITATOR,
        "u5": SessionRole.SCRIBE,
        "u6": SessionRole.TIMEKEEPER,
        "u7": SessionRole.CLARIFIER,
        "u1": SessionRole.CONNECTOR,
        "u2": SessionRole.PARTICIPANT,
        "u3": SessionRole.PARTICIPANT,
    }


def test_seven_members_with_no_finished_session_start_from_the_smallest_id() -> None:
    members = ["u7", "u3", "u1", "u5", "u2", "u6", "u4"]

    roles = deal_roles(members, 0)

    assert [roles[f"u{i}"] for i in range(1, 8)] == [
        *ROLE_ORDER,
        SessionRole.PARTICIPANT,
        SessionRole.PARTICIPANT,
    ]


def test_ids_are_sorted_as_strings_not_numbers() -> None:
    roles = deal_roles(["u2", "u10"], 0)

    assert roles["u10"] is SessionRole.FACILITATOR


# --- session status transitions ------------------------------------------------------------------

S = SessionStatus
ALLOWED = {
    (S.CREATED, S.RUNNING),
    (S.CREATED, S.FINISHED),
    (S.RUNNING, S.POST),
    (S.RUNNING, S.FINISHED),
    (S.POST, S.FINISHED),
}
ALL_PAIRS = list(product(SessionStatus, SessionStatus))


@pytest.mark.parametrize(
    ("current", "target"),
    sorted(ALLOWED),
    ids=[f"{a}->{b}" for a, b in sorted(ALLOWED)],
)
def test_forward_session_moves_are_allowed(current: SessionStatus, target: SessionStatus) -> None:
    check_session_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in ALL_PAIRS if pair not in ALLOWED],
    ids=[f"{a}->{b}" for a, b in ALL_PAIRS if (a, b) not in ALLOWED],
)
def test_every_other_session_move_is_a_conflict(
    current: SessionStatus, target: SessionStatus
) -> None:
    with pytest.raises(Conflict):
        check_session_transition(current, target)


def test_a_created_session_cannot_skip_to_post() -> None:
    with pytest.raises(Conflict, match="cannot go from CREATED to POST"):
        check_session_transition(S.CREATED, S.POST)


def test_a_session_in_post_cannot_go_back_to_running() -> None:
    with pytest.raises(Conflict, match="cannot go from POST to RUNNING"):
        check_session_transition(S.POST, S.RUNNING)


@pytest.mark.parametrize("status", [S.CREATED, S.RUNNING, S.POST])
def test_moving_a_session_to_its_own_status_is_a_conflict(status: SessionStatus) -> None:
    with pytest.raises(Conflict):
        check_session_transition(status, status)


@pytest.mark.parametrize("target", list(SessionStatus))
def test_a_finished_session_refuses_every_move_as_read_only(target: SessionStatus) -> None:
    with pytest.raises(Conflict, match="read-only"):
        check_session_transition(S.FINISHED, target)


@pytest.mark.parametrize("status", [S.CREATED, S.RUNNING, S.POST])
def test_only_a_finished_session_is_read_only(status: SessionStatus) -> None:
    check_not_finished(status)

    with pytest.raises(Conflict):
        check_not_finished(S.FINISHED)


# --- running -------------------------------------------------------------------------------------


def test_a_running_session_accepts_round_moves() -> None:
    check_running(S.RUNNING)


@pytest.mark.parametrize("status", [S.CREATED, S.POST])
def test_a_session_not_yet_or_no_longer_running_refuses_round_moves(
    status: SessionStatus,
) -> None:
    with pytest.raises(Conflict, match="not RUNNING"):
        check_running(status)


def test_a_finished_session_refuses_round_moves_as_read_only() -> None:
    with pytest.raises(Conflict, match="read-only"):
        check_running(S.FINISHED)


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rounds_count", [1, 2, 5, 10])
def test_rounds_count_from_one_to_ten_is_accepted(rounds_count: int) -> None:
    check_rounds_count(rounds_count)


@pytest.mark.parametrize("rounds_count", [-1, 0, 11, 100])
def test_rounds_count_outside_one_to_ten_is_invalid(rounds_count: int) -> None:
    with pytest.raises(Invalid, match=r"1\.\.10"):
        check_rounds_count(rounds_count)


@pytest.mark.parametrize("active_members", [2, 3, 50])
def test_two_or_more_active_members_are_enough(active_members: int) -> None:
    check_enough_members(active_members)


@pytest.mark.parametrize("active_members", [0, 1])
def test_fewer_than_two_active_members_is_a_conflict(active_members: int) -> None:
    with pytest.raises(Conflict, match="at least 2"):
        check_enough_members(active_members)


def test_layer_one_times_vote_60_discuss_180_revote_60_explain_180() -> None:
    assert LAYER_TIMERS[Layer.L1] == Timers(
        vote_sec=60, discuss_sec=180, revote_sec=60, explain_sec=180
    )


@pytest.mark.parametrize("layer", [Layer.L2, Layer.L3])
def test_layers_two_and_three_time_vote_90_discuss_240_revote_90_explain_240(
    layer: Layer,
) -> None:
    assert LAYER_TIMERS[layer] == Timers(
        vote_sec=90, discuss_sec=240, revote_sec=90, explain_sec=240
    )


def test_every_layer_has_timers() -> None:
    assert set(LAYER_TIMERS) == set(Layer) == {Layer("L1"), Layer("L2"), Layer("L3")}
