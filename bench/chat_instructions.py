"""Instructions per chat POST, in process: `python bench/chat_instructions.py [--small N]`.

CPU time per POST (`bench/chat_cpu.py`) moves with whatever else runs on this shared machine;
instruction counts do not. This runs `bench/chat_cpu.py --raw` twice under valgrind's callgrind
(all threads: aiosqlite's included), with N and with M POSTs, and prints
(instructions(M) - instructions(N)) / (M - N): setup, warm-up and start-up cancel out. Slow
(valgrind runs Python ~50x slower: a few minutes); needs `valgrind` on the PATH.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(posts: int, extra: list[str]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable,
            str(HERE / "chat_cpu.py"),
            "--raw",
            "--rounds",
            "1",
            "--posts",
            str(posts),
            *extra,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=50, help="POSTs of the first run (50)")
    parser.add_argument("--large", type=int, default=250, help="POSTs of the second run (250)")
    parser.add_argument("rest", nargs="*", help="more options for chat_cpu.py (after --)")
    options = parser.parse_args()
    with ThreadPoolExecutor(2) as pool:
        small, large = pool.map(
            lambda n: instructions(n, options.rest), (options.small, options.large)
        )
    per_post = (large - small) / (options.large - options.small)
    print(f"{small:,} instructions with {options.small} POSTs, {large:,} with {options.large}")
    print(f"{per_post:,.0f} instructions per POST")


if __name__ == "__main__":
    main()
