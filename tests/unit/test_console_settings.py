"""Development sign-in is on where the secret was generated here or DEV_LOGIN=1, and only
there; the console's bundle stays within its size budget and loads nothing from elsewhere."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from studygroups.config import ConfigError, Settings

SECRET = "a-secret-that-is-long-enough-for-hs256-tokens"
STATIC = Path(__file__).resolve().parents[2] / "src" / "studygroups" / "console" / "static"
BUDGET = 150 * 1024  # bytes of JavaScript, gzipped (issue 13)


def test_dev_sign_in_is_off_with_a_configured_secret_and_no_dev_login(tmp_path: Path) -> None:
    settings = Settings.from_env({"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path)})
    assert settings.dev_sign_in is False


def test_dev_sign_in_is_on_with_dev_login_even_with_a_configured_secret(tmp_path: Path) -> None:
    env = {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path), "DEV_LOGIN": "1"}
    assert Settings.from_env(env).dev_sign_in is True
    assert Settings.from_env({**env, "DEV_LOGIN": "0"}).dev_sign_in is False


def test_dev_sign_in_is_on_where_the_server_generated_its_own_secret(tmp_path: Path) -> None:
    assert Settings.from_env({"DATA_DIR": str(tmp_path)}).dev_sign_in is True


def test_dev_token_lifetime_comes_from_the_environment_and_must_be_positive(
    tmp_path: Path,
) -> None:
    env = {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).dev_token_ttl_seconds == 8 * 3600
    assert Settings.from_env({**env, "DEV_TOKEN_TTL_SECONDS": "60"}).dev_token_ttl_seconds == 60
    with pytest.raises(ConfigError, match="DEV_TOKEN_TTL_SECONDS"):
        Settings.from_env({**env, "DEV_TOKEN_TTL_SECONDS": "0"})


def test_the_console_javascript_is_within_its_gzipped_budget() -> None:
    scripts = list(STATIC.glob("*.js"))
    assert scripts
    assert sum(len(gzip.compress(path.read_bytes(), 9)) for path in scripts) <= BUDGET


def test_the_console_names_no_other_host_to_load_from() -> None:
    html = (STATIC / "index.html").read_text()
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == [
        "/console/icon.svg",
        "/console/console.css",
        "/console/console.js",
        "#main",
    ]
    css = (STATIC / "console.css").read_text()
    assert "url(" not in css and "@import" not in css
