"""The TypeScript client library (clients/js) run by node's test runner against real servers it
starts itself (`studygroups serve` on an ephemeral port, SQLite in a temp dir): every durable
event once and in seq order across socket drops, a SIGKILL and restart of the server, resync
by feed paging and short-lived tokens refreshed in band. The suites are clients/js/test/*.mjs;
this wrapper makes `./scripts/check` run them. Without node or `npm ci` in clients/js they skip
(fail when CI is set)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.node

LIBRARY = Path(__file__).parents[2] / "clients" / "js"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed"
    elif not (LIBRARY / "node_modules" / "socket.io-client").is_dir():
        reason = "clients/js/node_modules is missing: run `npm ci` in clients/js"
    else:
        return node
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set")
    pytest.skip(reason)


def test_the_client_library_applies_every_event_once_in_order_through_drops_and_kills() -> None:
    node = _node()
    env = {
        **os.environ,
        # The servers the suites start are this interpreter's `studygroups`.
        "STUDYGROUPS_BIN": str(Path(sys.executable).parent / "studygroups"),
    }
    result = subprocess.run(
        [node, "--test", "test/"],
        cwd=LIBRARY,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    failures = [line for line in result.stdout.splitlines() if line.startswith("not ok")]
    assert result.returncode == 0, "\n".join(
        [*failures, result.stdout[-6000:], result.stderr[-2000:]]
    )
