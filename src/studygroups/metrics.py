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

    def render(self) -> bytes:
        return generate_latest(self.registry)
