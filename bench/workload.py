"""What every side of the tracking benchmark does: the same data, the same checks, the same time bounds."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

# (b): five keys a training loop would log per step, 10,000 steps -> 50,000 values.
BATCH_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")
# (c): the metric each run gets, and the filter searched for.
SEARCH_METRIC = "score"
SEARCH_THRESHOLD = 0.5
# (c): runs listed page by page, as a UI or a script paging through results would.
PAGE_SIZE = 100


class BenchFailure(RuntimeError):
    """A measurement that cannot be trusted (wrong count, time limit): the run fails loudly."""


@dataclass
class Deadline:
    """A wall-clock bound for one workload; loops call ``check`` so nothing runs unbounded."""

    what: str
    seconds: float
    started: float = field(default_factory=time.perf_counter)

    def check(self) -> None:
        if time.perf_counter() - self.started > self.seconds:
            raise BenchFailure(f"{self.what} exceeded its time limit of {self.seconds:.0f} s")


@dataclass(frozen=True)
class Timed:
    seconds: float
    items: int
    # For a logging loop, the parts of ``seconds``: starting the run (experiment included), the
    # calls themselves, and finishing (delivering what is buffered and ending the run).
    start_seconds: float | None = None
    loop_seconds: float | None = None
    finish_seconds: float | None = None
    # CPU seconds of the client process (``time.process_time``) and of the server's process tree
    # over ``seconds``, where measured: (c)'s run creation.
    client_cpu_seconds: float | None = None
    server_cpu_seconds: float | None = None

    @property
    def per_second(self) -> float:
        return self.items / self.seconds


@dataclass(frozen=True)
class SearchTimes:
    create: Timed
    filtered: Timed
    listed: Timed


def loss(step: int) -> float:
    """A plausible decreasing loss curve with some wiggle."""
    return 2.0 * math.exp(-step / 1500) + 0.05 * math.sin(step / 7)


def batch_points(values: int) -> list[tuple[str, int, float]]:
    """``values`` (key, step, value) triples, step-major like a loop logging all keys each step."""
    steps = -(-values // len(BATCH_KEYS))
    points = [
        (key, step, loss(step) + index) for step in range(steps) for index, key in enumerate(BATCH_KEYS)
    ]
    return points[:values]


def run_score(index: int) -> float:
    """Scores spread over [0, 1) in a scrambled order, so the filter's answer is known exactly."""
    return (index * 7919 % 1000) / 1000


def expected_filtered(runs: int) -> int:
    return sum(1 for index in range(runs) if run_score(index) > SEARCH_THRESHOLD)


def expect(what: str, got: int, want: int) -> None:
    if got != want:
        raise BenchFailure(f"{what}: the server holds {got}, expected {want}")
