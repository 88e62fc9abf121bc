"""Every timestamp a client receives is ISO 8601 in UTC with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from studygroups.storage.event_log import iso_timestamp


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 30, 13, 5, 9, 123_999, tzinfo=UTC), "2026-11-30T13:05:09.123Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 6), "2026-01-02T03:04:05.000Z"),  # naive: UTC already
        (
            datetime(2026, 1, 1, 0, 30, 0, 999_000, tzinfo=timezone(timedelta(hours=2))),
            "2025-12-31T22:30:00.999Z",
        ),
        (
            datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(0), "GMT")),
            "2026-06-01T12:00:00.000Z",
        ),
    ],
)
def test_a_moment_is_written_in_utc_with_milliseconds_cut_not_rounded(
    moment: datetime, text: str
) -> None:
    assert iso_timestamp(moment) == text
