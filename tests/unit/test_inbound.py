"""The inbound policy (realtime/inbound.py) on a fake clock: a burst, then refusals, then a
disconnect for a socket that keeps flooding; malformed packets are counted and logged once."""

from __future__ import annotations

import logging

import pytest

from studygroups.config import Settings
from studygroups.metrics import Metrics
from studygroups.realtime.inbound import InboundGate, InboundLimits, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def gate(rate: float = 1.0, burst: int = 3, flood: int = 2) -> tuple[InboundGate, Clock, Metrics]:
    clock, metrics = Clock(), Metrics()
    return InboundGate(InboundLimits(rate, burst, flood), metrics, clock), clock, metrics


def counted(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_socket_gets_its_burst_then_refusals_then_is_closed_once() -> None:
    inbound, _, metrics = gate(burst=3, flood=2)

    verdicts = [inbound.admit("s1") for _ in range(8)]

    assert (
        verdicts
        == [Verdict.HANDLE] * 3 + [Verdict.REFUSE] * 2 + [Verdict.CLOSE] + [Verdict.DROP] * 2
    )
    assert counted(metrics, "studygroups_socket_flood_disconnects_total") == 1
    assert counted(metrics, "studygroups_socket_packets_refused_total", reason="rate_limited") == 5


def test_tokens_come_back_at_the_configured_rate_and_sockets_do_not_share_them() -> None:
    inbound, clock, _ = gate(rate=2.0, burst=1)
    assert inbound.admit("s1") is Verdict.HANDLE
    assert inbound.admit("s1") is Verdict.REFUSE
    assert inbound.admit("s2") is Verdict.HANDLE

    clock.now += 0.5

    assert inbound.admit("s1") is Verdict.HANDLE


def test_a_client_somewhat_over_the_rate_is_refused_but_not_closed() -> None:
    inbound, clock, _ = gate(rate=10.0, burst=1, flood=1)
    verdicts = []
    for _ in range(300):
        verdicts.append(inbound.admit("s1"))
        clock.now += 1 / 15  # 15 a second

    assert Verdict.CLOSE not in verdicts
    assert verdicts.count(Verdict.REFUSE) >= 90


def test_a_client_at_three_times_the_rate_is_closed() -> None:
    inbound, clock, _ = gate(rate=10.0, burst=1, flood=5)
    verdicts = []
    for _ in range(300):
        verdicts.append(inbound.admit("s1"))
        clock.now += 1 / 30

    assert Verdict.CLOSE in verdicts


def test_a_forgotten_socket_starts_afresh() -> None:
    inbound, _, _ = gate(burst=1, flood=1)
    for _ in range(3):
        inbound.admit("s1")

    inbound.forget("s1")

    assert inbound.admit("s1") is Verdict.HANDLE


def test_malformed_packets_are_all_counted_and_logged_once_per_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbound, _, metrics = gate()
    with caplog.at_level(logging.INFO, logger="studygroups.realtime"):
        for _ in range(50):
            inbound.malformed("s1", "garbage")
        inbound.malformed("s2", "garbage")

    assert counted(metrics, "studygroups_socket_packets_refused_total", reason="malformed") == 51
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]
    assert all(r.exc_info is None for r in caplog.records)


def test_warnings_across_many_connections_are_rate_limited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbound, clock, metrics = gate()
    with caplog.at_level(logging.INFO, logger="studygroups.realtime"):
        for n in range(1000):
            inbound.malformed(f"s{n}", "garbage")
        clock.now += 1.0
        inbound.malformed("late", "garbage")

    assert len(caplog.records) == 11  # a burst of 10, then one a second
    assert counted(metrics, "studygroups_socket_packets_refused_total", reason="malformed") == 1001


def test_limits_come_from_the_environment_and_must_be_positive() -> None:
    settings = Settings.from_env(
        {
            "JWT_SECRET": "s" * 40,
            "SOCKET_EVENTS_PER_SECOND": "5",
            "SOCKET_EVENT_BURST": "7",
            "SOCKET_EVENT_FLOOD_LIMIT": "9",
        }
    )

    assert InboundLimits.from_settings(settings) == InboundLimits(5.0, 7, 9)
    with pytest.raises(ValueError, match="SOCKET_EVENT_BURST"):
        InboundLimits(5.0, 0, 9)
    with pytest.raises(ValueError, match="SOCKET_EVENTS_PER_SECOND"):
        InboundLimits(0.0, 7, 9)
