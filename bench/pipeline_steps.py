"""The benchmark's pipelines for Kiln: no-op steps, chained or fanned out (``bench/pipelines.py``).

The Kiln server imports the step functions from here (``KILN_PIPELINE_MODULES=bench.pipeline_steps``);
the Prefect side (``bench/pipelines_prefect.py``) runs the very same shapes with its own decorators.
"""

from __future__ import annotations

from kiln.pipelines import pipeline, step
from kiln.pipelines.dsl import Pipeline


@step
def noop(previous: int | None = None) -> int:
    """Does nothing but hand a small JSON value on: the step's cost is the orchestrator's."""
    return 0 if previous is None else previous + 1


def chain(steps: int) -> Pipeline:
    """``steps`` no-op steps one after another: each waits for the one before."""

    def body() -> None:
        value = noop(None)
        for _ in range(steps - 1):
            value = noop(value)

    return pipeline(name=f"chain_{steps}")(body)


def fan_out(width: int) -> Pipeline:
    """``width`` independent no-op steps: all may run at once."""

    def body() -> None:
        for index in range(width):
            noop(index)

    return pipeline(name=f"fan_out_{width}")(body)
