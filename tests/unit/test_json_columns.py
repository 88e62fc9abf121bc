"""JSON columns are written and read with orjson, and with the standard library for what orjson
refuses: every value a client could have sent comes back as it was."""

from __future__ import annotations

import json

import pytest

from studygroups.storage.database import json_dumps, json_loads


@pytest.mark.parametrize(
    "value",
    [
        {"message": "héllo ✓ 你好", "n": 1, "x": 1.5, "ok": True, "none": None},
        {"huge": 2**70, "negative": -(2**65)},  # beyond 64 bits: orjson refuses these
        [{"nested": [1, [2, {"deep": "yes"}]]}],
    ],
)
def test_a_value_written_to_a_json_column_reads_back_equal(value: object) -> None:
    assert json_loads(json_dumps(value)) == value
    assert json_loads(json_dumps(value).encode()) == value


def test_text_the_standard_library_wrote_reads_back_equal() -> None:
    written = json.dumps({"huge": 2**70, "text": "é"})  # rows written before orjson
    assert json_loads(written) == {"huge": 2**70, "text": "é"}
