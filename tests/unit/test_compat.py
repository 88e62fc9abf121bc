"""Every non-public name of another library the project relies on still exists, and a release
that removes one is named, not found later as a traceback inside a connection."""

from __future__ import annotations

import pytest
import socketio
import uvicorn.protocols.http.httptools_impl as httptools_impl

from studygroups import compat


def test_every_internal_the_project_relies_on_exists_in_the_installed_libraries() -> None:
    assert compat.missing() == []


def test_a_removed_internal_method_is_named_with_the_module_that_relies_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(socketio.AsyncServer, "_send_packet")

    assert compat.missing() == ["socketio:AsyncServer()._send_packet (realtime/server.py)"]


def test_a_removed_instance_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    original = httptools_impl.HttpToolsProtocol.__init__

    def without_keep_alive_task(self: object, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        del self.timeout_keep_alive_task  # type: ignore[attr-defined]

    monkeypatch.setattr(httptools_impl.HttpToolsProtocol, "__init__", without_keep_alive_task)

    assert compat.missing() == [
        "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol().timeout_keep_alive_task"
        " (api/connections.py)"
    ]


def test_a_removed_module_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        compat,
        "INTERNALS",
        (compat.Internal("engineio.async_drivers.gone", ("WebSocket",), "realtime/packets.py"),),
    )

    (problem,) = compat.missing()
    assert problem.startswith("engineio.async_drivers.gone (realtime/packets.py): No module")


def test_the_sqlite_driver_internals_are_covered() -> None:
    users = {internal.user for internal in compat.INTERNALS}
    assert "storage/sqlite_driver.py" in users
