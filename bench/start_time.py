"""Time from exec to serving: `python bench/start_time.py [--runs N] [--compare SRC]`.

Starts `studygroups serve --no-migrate` (pinned to core 1, LOG_LEVEL=warning) on a migrated
SQLite file, or on `--postgres URL` and `--redis URL` as in the cluster (the database must be
migrated), and times exec → the first `/healthz` answered 200, polled every 5 ms; then SIGTERM.
A restarted process's clients wait that long. `--compare SRC` times another tree's `src`
(through PYTHONPATH, e.g. `git archive HEAD~1 src | tar -x -C /tmp/before`) alternately with
this one, run for run, since only runs side by side compare on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from studygroups.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-that-is-long-enough-for-hs256"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return int(answer.status) == 200
    except OSError:
        return False


def start_ms(env: dict[str, str], core: str) -> float:
    port = _free_port()
    command = ["taskset", "-c", core, str(ROOT / ".venv/bin/studygroups"), "serve"]
    command += ["--no-migrate", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        while not _healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}")
            time.sleep(0.005)
        return (time.perf_counter() - started) * 1000
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # never leave a server behind
            process.wait()
            raise SystemExit("serve did not exit within 30 s of SIGTERM: killed") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each tree (5)")
    parser.add_argument("--compare", default=None, help="another tree's src, timed alternately")
    parser.add_argument("--postgres", default=None, help="a migrated PostgreSQL database's URL")
    parser.add_argument("--redis", default=None, help="a Redis URL")
    parser.add_argument("--core", default="1", help="taskset list for the server (1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres
        if url is None:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            asyncio.run(upgrade(url))
        env = {**os.environ, "JWT_SECRET": SECRET, "DATABASE_URL": url, "LOG_LEVEL": "warning"}
        env.pop("PYTHONPATH", None)
        env.pop("REDIS_URL", None)
        if args.redis is not None:
            env["REDIS_URL"] = args.redis
        trees = {"this tree": env}
        if args.compare is not None:
            trees[args.compare] = {**env, "PYTHONPATH": str(Path(args.compare).resolve())}
        times: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree_env in trees.items():
                times[name].append(start_ms(tree_env, args.core))
        for name, values in times.items():
            print(
                f"{name}: exec to serving median {statistics.median(values):.0f} ms, least "
                f"{min(values):.0f} ms ({[round(v) for v in values]})"
            )


if __name__ == "__main__":
    main()
