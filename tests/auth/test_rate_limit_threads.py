"""The in-memory rate limits start no thread per request (``limits``' own storage did, every 10 ms)."""

from __future__ import annotations

import threading
import time

from kiln.auth.ratelimit import RateLimits


def test_a_stream_of_hits_leaves_expiry_to_one_sweeper_thread() -> None:
    limits = RateLimits(storage_uri="memory://", api="1000000/minute", login="10/minute")
    before = set(threading.enumerate())
    seen: set[threading.Thread] = set()
    deadline = time.monotonic() + 0.3  # long enough for the library's 10 ms timer to restart many times
    hits = 0
    while time.monotonic() < deadline:
        limits.hit(limits.api, "someone")
        hits += 1
        seen.update(set(threading.enumerate()) - before)

    sweepers = {thread for thread in seen if thread.name == "kiln-rate-limit-sweep"}
    others = seen - sweepers
    # At most the library's one timer from building the storage, gone within 10 ms.
    assert len(others) <= 1, f"{hits} hits started {sorted(thread.name for thread in others)}"
    assert len(sweepers) == 1
