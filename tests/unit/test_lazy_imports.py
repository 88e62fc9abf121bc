"""python-engineio's client libraries are not imported by a server's start, and still work."""

from __future__ import annotations

import subprocess
import sys

CLIENT_MODULES = ("aiohttp.client", "requests.sessions", "websocket._core")


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_the_asgi_entry_point_imports_no_client_library() -> None:
    loaded = _run(
        "import sys, studygroups.asgi\n"
        f"print(sorted(m for m in {CLIENT_MODULES!r} if m in sys.modules))"
    )

    assert loaded == "[]"


def test_a_deferred_client_library_loads_at_its_first_use() -> None:
    # aiohttp and requests are test dependencies; websocket-client may not be installed
    out = _run(
        "from studygroups.lazy_imports import defer_client_libraries\n"
        "deferred = defer_client_libraries()\n"
        "import sys, socketio, engineio.async_client as client\n"
        "before = 'aiohttp.client' in sys.modules\n"
        "session = client.aiohttp.ClientSession\n"
        "from aiohttp import web\n"
        "import requests\n"
        "print(deferred[:2], before, session.__module__, web.__name__, requests.Session.__module__,"
        " sys.modules['aiohttp'] is client.aiohttp.loaded(), socketio.AsyncClient().eio.__class__)"
    )

    assert out == (
        "['aiohttp', 'requests'] False aiohttp.client aiohttp.web requests.sessions"
        " True <class 'engineio.async_client.AsyncClient'>"
    )


def test_a_library_already_imported_is_left_as_it_is() -> None:
    out = _run(
        "import aiohttp\n"
        "from studygroups.lazy_imports import defer_client_libraries\n"
        "print('aiohttp' in defer_client_libraries(), type(__import__('sys').modules['aiohttp']))"
    )

    assert out == "False <class 'module'>"
