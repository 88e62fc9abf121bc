"""A JSON answer encoded with orjson, for answers made only of strings, integers, booleans,
None, lists and string-keyed objects (the chat POST's).

Starlette's JSONResponse encodes with the standard library (compact separators, UTF-8 as is);
for such answers orjson writes the same bytes several times faster. Floats are where the two
differ (orjson writes NaN as null where Starlette refuses it, and `1e+16` as `1e16`): answers
that may hold one keep JSONResponse. What orjson refuses (an integer beyond 64 bits, a
non-string key) goes to Starlette's encoder.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class PlainJson(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)
