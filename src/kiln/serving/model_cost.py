"""What a loaded model's predictions cost, measured at warm-up: whether a request runs on the event loop.

A predict request's model work either runs on the event loop itself or is handed to a worker
thread. Inline saves the hand-off (a cross-thread wake-up, then the two threads trading the GIL),
which is most of what a one-row request would wait for; a thread lets the loop read and decode the
next requests while the model works, and numpy releases the GIL for the arithmetic, so on two cores
batches overlap. Measured (docs/benchmarks.md, 7 December): 1,000-row batches of a cheap model
(0.44 ms) at four concurrent callers took about the same CPU either way, but inline the event loop
became the one serial lane and the in-process rate fell from about 137k to 78k rows/s. So batches
keep the thread, and the measurement guards the other side: a model whose example row, predicted
and encoded alone and as ``_BATCH_ROWS`` rows (the best of three each, wall time), estimates more
than ``INLINE_BUDGET_S`` for a request goes to a thread even for one row, so an expensive model
never holds the loop (and every other request) for long. A request runs inline when it has at most
``INLINE_ROWS`` rows and, when the model was measured, its estimate is within the budget; a model
without an example input (no warm-up) goes by rows alone, as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import structlog

from kiln.registry.loaded_model import LoadedModel

log = structlog.get_logger(__name__)

# The longest the event loop is held by one request's model work (estimated).
INLINE_BUDGET_S = 0.002
# Requests up to this many rows run inline (when the model's estimate is within the budget).
INLINE_ROWS = 100
_BATCH_ROWS = 256
_REPEATS = 3
# A floor under the measured cost per row (the difference of two timings can round to nothing):
# even a free model's rows cost their encoding, about a tenth of a microsecond each.
_MIN_PER_ROW_S = 1e-7


@dataclass(frozen=True)
class ModelCost:
    fixed_s: float  # one row
    per_row_s: float  # each row more

    def seconds(self, rows: int) -> float:
        return self.fixed_s + self.per_row_s * max(rows - 1, 0)


_COSTS: WeakKeyDictionary[LoadedModel, ModelCost] = WeakKeyDictionary()


def measure_cost(model: LoadedModel) -> ModelCost | None:
    """Time ``model`` on its example input (one row, then a batch) and keep the estimate; None when
    it has no example input. Raises what the model raises (warm-up calls it first, so it does not)."""
    example = model.descriptor.example_input
    if example is None:
        return None
    one = model.validate([example])
    many = model.validate([example] * _BATCH_ROWS)
    fixed = _best(model, one)
    batch = _best(model, many)
    cost = _COSTS[model] = ModelCost(fixed, max((batch - fixed) / (_BATCH_ROWS - 1), _MIN_PER_ROW_S))
    log.info(
        "serving.model_cost",
        one_row_ms=round(fixed * 1000, 3),
        per_1000_rows_ms=round(cost.seconds(1000) * 1000, 3),
        inline_up_to_rows=inline_rows(model),
    )
    return cost


def _best(model: LoadedModel, data: object) -> float:
    best = float("inf")
    for _ in range(_REPEATS):
        started = time.perf_counter()
        model.predictor.predict(data, probabilities=True).to_json()
        best = min(best, time.perf_counter() - started)
    return best


def runs_inline(model: LoadedModel, rows: int) -> bool:
    """Whether a checked request of ``rows`` rows is small and cheap enough to predict on the loop."""
    if rows > INLINE_ROWS:
        return False
    cost = _COSTS.get(model)
    return cost is None or cost.seconds(rows) <= INLINE_BUDGET_S


def inline_rows(model: LoadedModel) -> int:
    """The largest request that runs inline (for the log line)."""
    cost = _COSTS.get(model)
    if cost is None:
        return INLINE_ROWS
    if cost.fixed_s > INLINE_BUDGET_S:
        return 0
    return min(INLINE_ROWS, int((INLINE_BUDGET_S - cost.fixed_s) / cost.per_row_s) + 1)
