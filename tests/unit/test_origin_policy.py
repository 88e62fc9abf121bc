"""Socket.IO origins: the configured front ends, and pages this server served itself."""

from __future__ import annotations

from studygroups.realtime.server import origin_policy

allowed = origin_policy(["http://localhost:3000"])


def test_a_configured_front_end_origin_is_allowed() -> None:
    assert allowed("http://localhost:3000", {"HTTP_HOST": "school.example:8000"})


def test_the_servers_own_origin_is_allowed_for_the_console() -> None:
    assert allowed("http://school.example:8000", {"HTTP_HOST": "school.example:8000"})
    assert allowed("https://school.example", {"HTTP_HOST": "school.example"})


def test_another_origin_is_refused() -> None:
    environ = {"HTTP_HOST": "school.example:8000"}
    assert not allowed("http://evil.example:8000", environ)
    assert not allowed("http://school.example:8001", environ)
    assert not allowed("file://school.example:8000", environ)
    assert not allowed(None, environ)
    assert not allowed("http://school.example:8000", {})
