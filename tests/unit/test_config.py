"""Secrets the service starts with: JWT_SECRET's minimum length, the data directory's secret file
(private, ours), and `studygroups token` finding the secret as `serve` does and saying which."""

from __future__ import annotations

import os
from pathlib import Path

import jwt
import pytest

from studygroups.cli import main
from studygroups.config import SECRET_FILE, ConfigError, Settings
from tests.conftest import SECRET

TOKEN_ARGS = ["token", "--sub", "ana", "--name", "Ana", "--email", "ana@example.org"]


def _secret_file(data_dir: Path, mode: int, content: str = "s" * 64) -> Path:
    path = data_dir / SECRET_FILE
    path.write_text(content + "\n")
    path.chmod(mode)
    return path


def _run_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[str, str]:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(TOKEN_ARGS) == 0
    out, err = capsys.readouterr()
    return out.strip(), err


@pytest.mark.parametrize("size", [1, 16, 31])
def test_a_jwt_secret_shorter_than_32_bytes_is_refused_at_start(size: int, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"JWT_SECRET is \d+ bytes; HS256 needs at least 32"):
        Settings.from_env({"JWT_SECRET": "k" * size, "DATA_DIR": str(tmp_path)})

    # 32 bytes is enough, and so is the SECRET the test suite builds its Settings with.
    for secret in ("k" * 32, SECRET):
        assert Settings.from_env({"JWT_SECRET": secret}).jwt_secret == secret
    assert not (tmp_path / SECRET_FILE).exists()


@pytest.mark.parametrize("command", [["migrate"], TOKEN_ARGS])
def test_the_commands_refuse_a_short_jwt_secret_with_one_line_and_no_traceback(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JWT_SECRET", "short")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(SystemExit) as exited:
        main(command)

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith("studygroups: the JWT secret from JWT_SECRET is 5 bytes")
    assert "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "mode", [0o644, 0o604, 0o640, 0o620, 0o602, 0o666], ids=lambda mode: f"{mode:04o}"
)
def test_a_secret_file_others_may_read_or_write_is_refused_until_chmod_600(
    mode: int, tmp_path: Path
) -> None:
    path = _secret_file(tmp_path, mode, "p" * 40)

    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"DATA_DIR": str(tmp_path)})
    path.chmod(0o600)  # what the message says to do

    assert f"mode {mode:04o}" in str(refused.value)
    assert f"chmod 600 {path}" in str(refused.value)
    assert Settings.from_env({"DATA_DIR": str(tmp_path)}).jwt_secret == "p" * 40


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_secret_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, 0o600)
    os.chown(path, 65534, 65534)

    with pytest.raises(ConfigError, match="belongs to uid 65534, not to this user"):
        Settings.from_env({"DATA_DIR": str(tmp_path)})


def test_a_secret_file_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = _secret_file(elsewhere, 0o600)
    (tmp_path / SECRET_FILE).symlink_to(target)

    with pytest.raises(ConfigError, match="must be a regular file"):
        Settings.from_env({"DATA_DIR": str(tmp_path)})


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    _secret_file(tmp_path, 0o600, "")

    with pytest.raises(ConfigError, match="is 0 bytes; HS256 needs at least 32"):
        Settings.from_env({"DATA_DIR": str(tmp_path)})


def test_token_signs_with_the_data_dirs_secret_that_serve_uses_and_names_it_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served = Settings.from_env({"DATA_DIR": str(tmp_path)})  # what `serve` would verify with
    monkeypatch.chdir(tmp_path.parent)  # not the data directory: DATA_DIR decides

    token, err = _run_token(monkeypatch, capsys, {"DATA_DIR": str(tmp_path)})

    assert jwt.decode(token, served.jwt_secret, algorithms=["HS256"])["sub"] == "ana"
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o777 == 0o600  # generated private
    assert f"signed with the secret in {tmp_path / SECRET_FILE}" in err
    assert token not in err


def test_token_says_it_used_jwt_secret_when_it_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "e" * 48
    token, err = _run_token(monkeypatch, capsys, {"JWT_SECRET": secret, "DATA_DIR": str(tmp_path)})

    assert jwt.decode(token, secret, algorithms=["HS256"])["name"] == "Ana"
    assert "signed with JWT_SECRET from the environment" in err
    assert not (tmp_path / SECRET_FILE).exists()
