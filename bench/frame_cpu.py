"""CPU cost of encoding one room event, in process: `python bench/frame_cpu.py [--events N]`.

Builds the WebSocket frame of a `chat.typing` and of a `chat.message` event the way a room
broadcast does (`realtime/fanout.py` `EventFrames.frame`, once per codec), N times each, and
prints the CPU time per event and codec. Figures, never asserts.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from studygroups.realtime.codecs import JSON, MSGPACK
from studygroups.realtime.fanout import EventFrames

NAMESPACE = "/study-groups"
EVENTS: dict[str, Any] = {
    "chat.typing": {
        "sessionId": "6f1c2a8e-4b7d-4a57-9a7e-3c1d2b4e5f60",
        "userId": "user-0042",
        "userName": "User 42",
        "isTyping": True,
        "timestamp": "2026-11-30T12:00:00.000Z",
    },
    "chat.message": {
        "id": "0b7e1f0c-8d1a-4c4e-9f55-1a2b3c4d5e6f",
        "sessionId": "6f1c2a8e-4b7d-4a57-9a7e-3c1d2b4e5f60",
        "roundIndex": 1,
        "message": "I think it is B, because the second premise does not hold here.",
        "userId": "user-0042",
        "userName": "User 42",
        "seq": 1234,
        "timestamp": "2026-11-30T12:00:00.000Z",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000, help="events per round (20000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is shown (5)")
    options = parser.parse_args()
    for name, data in EVENTS.items():
        for codec in (JSON, MSGPACK):
            costs = []
            for _ in range(options.rounds):
                start = time.process_time()
                for _ in range(options.events):
                    EventFrames(NAMESPACE, name, data).frame(codec)
                costs.append((time.process_time() - start) / options.events * 1e6)
            print(f"{name:13} {codec.name:8} {statistics.median(costs):6.2f} µs CPU per event")


if __name__ == "__main__":
    main()
