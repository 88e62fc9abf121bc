"""Settings of sessions, tokens and recovery read from the environment (README's table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studygroups.config import Settings

BASE = {"JWT_SECRET": "s" * 40}


def test_the_replay_budget_and_the_socket_cap_have_defaults_and_read_their_variables(
    tmp_path: Path,
) -> None:
    defaults = Settings.from_env({**BASE, "DATA_DIR": str(tmp_path)})
    configured = Settings.from_env(
        {
            **BASE,
            "DATA_DIR": str(tmp_path),
            "REPLAY_MAX_BYTES": "200000",
            "MAX_SOCKETS_PER_USER": "3",
        }
    )

    assert (defaults.replay_max_bytes, defaults.max_sockets_per_user) == (1024 * 1024, 20)
    assert (configured.replay_max_bytes, configured.max_sockets_per_user) == (200_000, 3)


@pytest.mark.parametrize("name", ["REPLAY_MAX_BYTES", "MAX_SOCKETS_PER_USER"])
@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_a_limit_that_is_not_a_positive_integer_is_refused_with_its_name(
    name: str, value: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({**BASE, "DATA_DIR": str(tmp_path), name: value})
