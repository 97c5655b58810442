"""Job kinds the queue's tests run: registered once, at import, as a domain would at start.

Each handler does what its payload says, so one kind serves many tests; what ran is recorded in
``RAN`` (job id -> the attempts that reached the handler), under a lock, because workers run
handlers on their own threads.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, register_job_kind

ECHO = "tests.echo"
FLAKY = "tests.flaky"
BLOCKING = "tests.blocking"

RAN: dict[str, list[int]] = defaultdict(list)
_lock = threading.Lock()
# Handlers of BLOCKING wait here until a test lets them go (or the worker tells them to stop).
RELEASE = threading.Event()
STARTED = threading.Event()


def _ran(context: JobContext) -> None:
    with _lock:
        RAN[context.job_id].append(context.attempt)


def echo(context: JobContext) -> dict[str, Any]:
    _ran(context)
    return {"echo": context.payload}


def flaky(context: JobContext) -> dict[str, Any]:
    """Fails its first ``payload["failures"]`` attempts (all of them by default)."""
    _ran(context)
    if context.payload.get("permanent"):
        raise PermanentFailure("the input is bad; another attempt would fail the same way")
    if context.attempt <= context.payload.get("failures", 1_000):
        raise RuntimeError(f"attempt {context.attempt} broke")
    return {"succeeded_on": context.attempt}


def blocking(context: JobContext) -> dict[str, Any]:
    _ran(context)
    STARTED.set()
    while not RELEASE.wait(0.01):
        context.raise_if_cancelled()
    return {"released": True}


register_job_kind(ECHO, echo)
register_job_kind(FLAKY, flaky, max_attempts=3, backoff=Backoff(initial_seconds=10, factor=2))
register_job_kind(BLOCKING, blocking, max_attempts=2)
