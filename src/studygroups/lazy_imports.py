"""Libraries a server process imports but never uses, loaded only if something uses them.

python-socketio's package imports its clients, and python-engineio's clients import their HTTP
libraries when installed: aiohttp (the asyncio client's) and requests and websocket-client (the
threaded client's) — about 0.1 s of a restart's start (`python -X importtime`), for code a
server never runs. They are installed where the tests run (python-socketio's client drives the
service in tests), and a restart's start is what its clients wait for.

`defer_client_libraries()`, called before python-socketio is first imported (`studygroups
serve` and `studygroups.asgi`), puts each installed one in `sys.modules` as a stand-in module:
`import aiohttp` then returns at once, and the stand-in imports the library the first time
one of its attributes is read (or a submodule is imported), then answers from it, so a client
used in the process still works. (`importlib.util.LazyLoader` does not do here: the import
statement reads the module's `__spec__`, which runs it.) One that is not installed, or already
imported, is left as it is (python-engineio then sees what it saw before).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

CLIENT_LIBRARIES = ("aiohttp", "requests", "websocket")


class Deferred(ModuleType):
    """A library not imported yet: the first attribute read imports it and answers from it."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.loaded(), attribute)

    def loaded(self) -> ModuleType:
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        assert isinstance(real, ModuleType)
        return real


def defer_client_libraries() -> list[str]:
    """Stand-ins for python-engineio's client libraries; the names deferred."""
    deferred = []
    for name in CLIENT_LIBRARIES:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        stand_in = Deferred(name)
        stand_in.__spec__ = spec  # read by every import statement; `__path__` is not here
        sys.modules[name] = stand_in
        deferred.append(name)
    return deferred
