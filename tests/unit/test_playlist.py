"""The group's content playlist: content ids, duplicates, room, positions."""

from __future__ import annotations

import pytest

from studygroups.config import Settings
from studygroups.domain.errors import Conflict, Invalid, NotFound
from studygroups.domain.playlist import (
    CONTENT_ID_MAX,
    check_listed,
    check_not_listed,
    check_room,
    clean_content_id,
    next_position,
)


@pytest.mark.parametrize("content_id", ["c1", "lesson/7", "ünïcode id", "x" * CONTENT_ID_MAX])
def test_a_content_id_is_kept_exactly_as_sent(content_id: str) -> None:
    assert clean_content_id(content_id) == content_id


@pytest.mark.parametrize(
    ("content_id", "problem"),
    [
        ("", "1..200"),
        ("x" * (CONTENT_ID_MAX + 1), "1..200"),
        (" c1", "whitespace"),
        ("c1\n", "whitespace"),
        ("   ", "whitespace"),
        ("c\x001", "control"),
        ("c\x7f1", "control"),
    ],
)
def test_an_empty_overlong_padded_or_control_content_id_is_invalid(
    content_id: str, problem: str
) -> None:
    with pytest.raises(Invalid, match=problem):
        clean_content_id(content_id)


def test_a_content_already_listed_is_a_conflict() -> None:
    check_not_listed(False)
    with pytest.raises(Conflict, match="already"):
        check_not_listed(True)


def test_a_full_playlist_refuses_one_more_content() -> None:
    check_room(listed=2, max_contents=3)
    with pytest.raises(Conflict, match="at most 3"):
        check_room(listed=3, max_contents=3)


def test_a_content_goes_after_the_last_position_and_the_first_is_one() -> None:
    assert next_position(None) == 1
    assert next_position(1) == 2
    assert next_position(7) == 8  # gaps before the last position are left alone


def test_taking_off_a_content_that_is_not_listed_is_not_found() -> None:
    check_listed(True)
    with pytest.raises(NotFound, match="not on"):
        check_listed(False)


def test_the_playlist_limit_comes_from_max_group_contents_and_defaults_to_500() -> None:
    base = {"DATABASE_URL": "sqlite+aiosqlite:///x.db", "JWT_SECRET": "s" * 32}

    assert Settings.from_env(base).max_group_contents == 500
    assert Settings.from_env({**base, "MAX_GROUP_CONTENTS": "3"}).max_group_contents == 3
