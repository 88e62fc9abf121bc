"""Prometheus metrics of one app instance; the only module that imports prometheus_client."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """A registry per app, so tests can build many apps in one process."""

    content_type = CONTENT_TYPE

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge(
            "studygroups_socket_connections", "Connected Socket.IO clients", registry=self.registry
        )
        self.rooms = Gauge(
            "studygroups_session_rooms", "Session rooms with local members", registry=self.registry
        )
        self.events_emitted = Counter(
            "studygroups_events_emitted_total",
            "Events emitted to session rooms",
            ["event"],
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "studygroups_publish_failures_total",
            "Committed events whose broadcast failed",
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "studygroups_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
        )
        # -- sessions, tokens and recovery (sec-session) --
        self.replays_over_budget = Counter(
            "studygroups_replay_over_budget_total",
            "joinSession acks that answered resync because missed exceeded REPLAY_MAX_BYTES",
            registry=self.registry,
        )
        self.sockets_refused_per_user = Counter(
            "studygroups_socket_refused_per_user_total",
            "Connections refused because the user had MAX_SOCKETS_PER_USER sockets here",
            registry=self.registry,
        )
        self.tokens_expired = Counter(
            "studygroups_socket_token_expired_total",
            "Sockets disconnected because their token expired",
            registry=self.registry,
        )
        self.tokens_refreshed = Counter(
            "studygroups_socket_token_refreshed_total",
            "refreshToken requests, by outcome",
            ["outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
