"""Prometheus metrics of one app instance; the only module that imports prometheus_client."""

from __future__ import annotations

from collections.abc import Sequence

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
        self.redis_publish_failures = Counter(
            "studygroups_redis_publish_failures_total",
            "Batches of internal messages (durable events, signals, evictions) Redis did not"
            " take; the other processes catch the durable events up from the log",
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "studygroups_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
        )
        # -- Socket.IO frames (sec-frames): see docs/security.md --------------------------------
        self.socket_packets_refused = Counter(
            "studygroups_socket_packets_refused_total",
            "Inbound Socket.IO/Engine.IO packets refused before any handler ran, by reason",
            ["reason"],
            registry=self.registry,
        )
        for reason in ("malformed", "binary", "unknown_event", "rate_limited"):
            self.socket_packets_refused.labels(reason)  # every reason shows, from 0
        self.socket_flood_disconnects = Counter(
            "studygroups_socket_flood_disconnects_total",
            "Sockets disconnected for sending events far beyond SOCKET_EVENTS_PER_SECOND",
            registry=self.registry,
        )
        # -- connections and resources (docs/security.md "Connections and resources") --
        self.socket_overflows = Counter(
            "studygroups_socket_overflows_total",
            "Sockets cut off because SOCKET_MAX_BUFFERED_BYTES waited for a client not reading",
            ["path"],
            registry=self.registry,
        )
        self.auth_timeouts = Counter(
            "studygroups_auth_timeouts_total",
            "Engine.IO sessions closed for not connecting to a namespace in AUTH_TIMEOUT_SECONDS",
            registry=self.registry,
        )
        self.http_timeouts = Counter(
            "studygroups_http_timeouts_total",
            "HTTP connections closed for slow request headers or body",
            ["phase"],
            registry=self.registry,
        )
        self.connections_shed = Counter(
            "studygroups_connections_shed_total",
            "Connections closed at MAX_CONNECTIONS: an idle one evicted, or the new one refused",
            ["action"],
            registry=self.registry,
        )
        self.reads_limited = Counter(
            "studygroups_rest_reads_limited_total",
            "REST reads refused with 429 by the per-user read rate",
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
        self.users_not_recorded = Counter(
            "studygroups_users_not_recorded_total",
            "Users whose name and email from a socket's token could not be written (database"
            " busy or down); written at their next connection or REST call",
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
        # -- group administration (issue 15): the group's content playlist
        self.playlist_full = Counter(
            "studygroups_group_playlist_full_total",
            "Contents refused because the group's playlist held MAX_GROUP_CONTENTS",
            registry=self.registry,
        )
        # -- the console and development sign-in (console, issue 13) --
        self.dev_tokens_minted = Counter(
            "studygroups_dev_tokens_minted_total",
            "Tokens minted by POST /dev/token (development sign-in; see docs/security.md)",
            registry=self.registry,
        )

        # -- the WebSocket transport (compat-transport): docs/architecture.md --
        self.websockets = Counter(
            "studygroups_websockets_total",
            "Socket.IO WebSockets opened, by path: native (a new session served by NativeSocket),"
            " upgrade (a long-polling session moved onto one), engineio (through ASGI)",
            ["path"],
            registry=self.registry,
        )
        for path in ("native", "upgrade", "engineio"):
            self.websockets.labels(path)  # every path shows, from 0
        self.websockets_waited = Counter(
            "studygroups_websockets_waited_total",
            "New WebSocket sessions whose upgrade waited for a place among the clients arriving"
            " at once (realtime/admission.py; a reconnect storm)",
            registry=self.registry,
        )

        # -- phase clock (issue 11): deadlines fired by this process, and how late
        self.timers_fired = Counter(
            "studygroups_round_time_up_total",
            "round.timeUp recorded by this process (each deadline fires once per cluster)",
            registry=self.registry,
        )
        self.timer_lag = Histogram(
            "studygroups_round_time_up_lag_seconds",
            "From a deadline (ends_at) to the commit of its round.timeUp",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0),
            registry=self.registry,
        )

    def observe_time_ups(self, lags: Sequence[float]) -> None:
        """One phase-clock pass fired these deadlines, each this many seconds late."""
        self.timers_fired.inc(len(lags))
        for lag in lags:
            self.timer_lag.observe(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)
