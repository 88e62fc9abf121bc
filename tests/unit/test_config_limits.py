"""The connection and resource limits are read from the environment (config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studygroups.config import Settings

LIMITS = {
    "SOCKET_MAX_BUFFERED_BYTES": ("socket_max_buffered_bytes", "1048576", 1048576),
    "AUTH_TIMEOUT_SECONDS": ("auth_timeout_seconds", "2.5", 2.5),
    "HTTP_HEADER_TIMEOUT_SECONDS": ("http_header_timeout_seconds", "5", 5.0),
    "HTTP_BODY_TIMEOUT_SECONDS": ("http_body_timeout_seconds", "12", 12.0),
    "MAX_CONNECTIONS": ("max_connections", "2000", 2000),
    "REST_READS_PER_SECOND": ("rest_reads_per_second", "0.5", 0.5),
    "REST_READ_BURST": ("rest_read_burst", "7", 7),
    "REST_WRITES_PER_SECOND": ("rest_writes_per_second", "5", 5.0),
    "REST_WRITE_BURST": ("rest_write_burst", "9", 9),
}


def test_each_limit_is_read_from_its_environment_variable(tmp_path: Path) -> None:
    env = {name: raw for name, (_, raw, _) in LIMITS.items()}
    settings = Settings.from_env({**env, "DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32})
    for field, _, value in LIMITS.values():
        assert getattr(settings, field) == value


@pytest.mark.parametrize("name", sorted(LIMITS))
@pytest.mark.parametrize("raw", ["0", "-1", "ten"])
def test_a_limit_that_is_not_a_positive_number_is_refused_by_name(
    tmp_path: Path, name: str, raw: str
) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: raw, "DATA_DIR": str(tmp_path), "JWT_SECRET": "s" * 32})
