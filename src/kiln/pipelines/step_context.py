"""What a step's code may record while it runs: metrics and params for the step's child tracking run.

    from kiln.pipelines import log_metric, log_params, step

    @step(track=True)
    def train(data, c: float):
        log_params({"solver": "lbfgs"})
        ...
        log_metric("f1", 0.91)

The step runs in a pool process or on a Dask worker, which has no database and perhaps no way to
reach the server; so what it logs is kept in the process and comes back with the step's outcome
(``StepOutcome.metrics`` and ``params``, plain data), and the worker writes it into the child run
when the step ends. Outside a pipeline run (a step called as a plain function, a test) the calls do
nothing, so step code needs no guard.

While a step runs, ``KILN_PIPELINE_RUN`` and ``KILN_PIPELINE_STEP`` name it in the environment: the
SDK tags a model it registers with them, and the worker links that model version to the step's
output in lineage.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

RUN_ENV = "KILN_PIPELINE_RUN"
STEP_ENV = "KILN_PIPELINE_STEP"
MAX_METRICS = 10_000  # points one step may log (the rest is dropped, and said so in the log)
MAX_PARAMS = 1_000


@dataclass
class StepRecording:
    """What the running step logged: metric points as tracking takes them, params as text."""

    metrics: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    dropped: int = 0
    _steps: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def metric(self, key: str, value: float, step: int | None) -> None:
        with self._lock:
            if len(self.metrics) >= MAX_METRICS:
                self.dropped += 1
                return
            if step is None:  # each key counts 0, 1, 2, ... on its own, as the SDK does
                step = self._steps.get(key, 0)
            self._steps[key] = max(self._steps.get(key, 0), int(step) + 1)
            self.metrics.append(
                {
                    "key": str(key),
                    "value": float(value),
                    "step": int(step),
                    "timestamp": int(time.time() * 1000),
                }
            )

    def param(self, key: str, value: Any) -> None:
        with self._lock:
            if len(self.params) < MAX_PARAMS or key in self.params:
                self.params[str(key)] = value if isinstance(value, str) else str(value)


_current: StepRecording | None = None


@contextlib.contextmanager
def recording(run_id: str, step: str) -> Iterator[StepRecording]:
    """Make the step's calls land in a new recording, and name the step in the environment."""
    global _current
    saved = {name: os.environ.get(name) for name in (RUN_ENV, STEP_ENV)}
    os.environ[RUN_ENV], os.environ[STEP_ENV] = run_id, step
    _current = StepRecording()
    try:
        yield _current
    finally:
        _current = None
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """One point of metric ``key`` in the step's child run (``step``: 0, 1, 2, ... by default)."""
    if _current is not None:
        _current.metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    for key, value in metrics.items():
        log_metric(key, value, step)


def log_param(key: str, value: Any) -> None:
    """A param of the step's child run (recorded as text, beside the step's arguments)."""
    if _current is not None:
        _current.param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    for key, value in params.items():
        log_param(key, value)
