"""The phase timer's state machine: states, remaining time under pause/resume/extend/set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studygroups.domain.errors import Conflict, Invalid
from studygroups.domain.rounds import RoundStatus
from studygroups.domain.timer import (
    STOPPED,
    Timer,
    TimerAction,
    TimerState,
    apply,
    enter_phase,
    expire,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
seconds = st.integers(1, 3600)
gaps_ms = st.integers(0, 5_000_000)
actions = st.tuples(st.sampled_from(list(TimerAction)), st.none() | seconds, gaps_ms, st.booleans())


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


@given(st.sampled_from(list(RoundStatus)), st.integers(5, 3600))
def test_entering_a_timed_phase_runs_for_its_seconds_and_any_other_stops_the_timer(
    status: RoundStatus, phase_sec: int
) -> None:
    timer = enter_phase(status, phase_sec, T0)
    if status in (RoundStatus.CREATED, RoundStatus.DONE):
        assert timer == STOPPED
    else:
        assert timer.state is TimerState.RUNNING
        assert timer.remaining(T0) == phase_sec * 1000


@given(st.integers(5, 3600), gaps_ms, gaps_ms)
def test_pause_then_resume_keeps_what_was_left(phase_sec: int, before: int, paused: int) -> None:
    running = enter_phase(RoundStatus.VOTING, phase_sec, T0)
    left = running.remaining(at(before))
    held = apply(running, TimerAction.PAUSE, None, at(before))
    assert held.state is TimerState.PAUSED
    assert held.remaining(at(before + paused)) == left
    resumed = apply(held, TimerAction.RESUME, None, at(before + paused))
    assert resumed.state is TimerState.RUNNING
    assert resumed.remaining(at(before + paused)) == left


@given(st.sampled_from([TimerState.RUNNING, TimerState.PAUSED]), seconds, seconds, gaps_ms)
def test_extend_adds_its_seconds_to_what_is_left(
    state: TimerState, phase_sec: int, extra: int, gap: int
) -> None:
    timer = enter_phase(RoundStatus.DISCUSSING, phase_sec, T0)
    if state is TimerState.PAUSED:
        timer = apply(timer, TimerAction.PAUSE, None, T0)
    left = timer.remaining(at(gap))
    assert left is not None
    extended = apply(timer, TimerAction.EXTEND, extra, at(gap))
    assert extended.state is state
    assert extended.remaining(at(gap)) == left + extra * 1000


@given(seconds, gaps_ms)
def test_an_expired_timer_restarts_when_extended(extra: int, gap: int) -> None:
    expired = expire(enter_phase(RoundStatus.REVOTING, 5, T0), at(5000))
    assert expired.state is TimerState.EXPIRED and expired.remaining(at(gap)) == 0
    restarted = apply(expired, TimerAction.EXTEND, extra, at(5000 + gap))
    assert restarted.state is TimerState.RUNNING
    assert restarted.ends_at == at(5000 + gap + extra * 1000)


@given(st.lists(actions, max_size=12), st.integers(5, 3600))
def test_any_sequence_of_actions_keeps_the_states_invariants(
    steps: list[tuple[TimerAction, int | None, int, bool]], phase_sec: int
) -> None:
    now = T0
    timer = enter_phase(RoundStatus.VOTING, phase_sec, now)
    for action, secs, gap, fire in steps:
        now += timedelta(milliseconds=gap)
        if fire and timer.is_due(now):
            timer = expire(timer, now)
        before = timer
        try:
            timer = apply(timer, action, secs, now)
        except Invalid:
            assert (action in (TimerAction.EXTEND, TimerAction.SET)) == (secs is None)
            assert timer is before
            continue
        except Conflict:
            legal = {TimerAction.PAUSE: TimerState.RUNNING, TimerAction.RESUME: TimerState.PAUSED}
            assert before.state is not legal[action]
            continue
        if action is TimerAction.SET:
            assert secs is not None and timer.state is TimerState.RUNNING
            assert timer.remaining(now) == secs * 1000
        remaining = timer.remaining(now)
        assert remaining is not None and remaining >= 0
        if timer.state is TimerState.RUNNING:
            assert timer.ends_at is not None and timer.remaining_ms is None
        if timer.state is TimerState.PAUSED:
            assert timer.ends_at is None and timer.remaining_ms is not None


@pytest.mark.parametrize("action", list(TimerAction))
def test_no_action_applies_outside_a_timed_phase(action: TimerAction) -> None:
    with pytest.raises(Conflict):
        apply(STOPPED, action, 10, T0)


def test_a_deadline_expires_only_once_it_has_passed() -> None:
    timer = Timer(TimerState.RUNNING, ends_at=at(1000))
    with pytest.raises(Conflict):
        expire(timer, at(999))
    assert expire(timer, at(1000)) == Timer(TimerState.EXPIRED, ends_at=at(1000))
    with pytest.raises(Conflict):
        expire(expire(timer, at(1000)), at(2000))


@pytest.mark.parametrize(
    "timer",
    [
        Timer(TimerState.PAUSED, remaining_ms=23 * 3_600_000 + 1),
        Timer(TimerState.RUNNING, ends_at=at(23 * 3_600_000 + 1)),
    ],
    ids=["paused", "running"],
)
def test_extending_a_timer_past_a_day_left_is_invalid(timer: Timer) -> None:
    # Each extend adds up to an hour; a PAUSED timer's milliseconds overflowed their column
    # after ~600 of them, a 500 on PostgreSQL.
    with pytest.raises(Invalid, match="at most 24 hours"):
        apply(timer, TimerAction.EXTEND, 3600, T0)

    assert apply(timer, TimerAction.EXTEND, 3599, T0).remaining(T0) == 23 * 3_600_000 + 3_599_001
