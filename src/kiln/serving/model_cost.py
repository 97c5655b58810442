"""What a loaded model's predictions cost, measured at warm-up: whether a batch runs on the event loop.

A predict request's model work either runs on the event loop itself or is handed to a worker
thread. The hand-off keeps the loop answering other requests while an expensive model works, but
it costs a cross-thread wake-up and then the two threads trading the GIL; for a model that answers
1,000 rows in a few hundred microseconds (a scaled logistic regression) that trade was a fifth of a
batch's server time (docs/benchmarks.md). So the cost is measured once, when the model is warmed
up: its example row predicted and encoded alone and as a batch of ``_BATCH_ROWS`` rows (the best of
three each, wall time), giving a fixed cost and a cost per row. A checked request whose estimated
model time is within ``INLINE_BUDGET_S`` runs inline; a larger or more expensive one still goes to a
thread, so the loop is never held for long. A model without an example input (no warm-up) keeps
the rule by rows: up to ``INLINE_ROWS`` inline.
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
# Without a measured cost: batches up to this many rows run inline.
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
    """Whether a checked request of ``rows`` rows is cheap enough to predict on the event loop."""
    cost = _COSTS.get(model)
    if cost is None:
        return rows <= INLINE_ROWS
    return cost.seconds(rows) <= INLINE_BUDGET_S


def inline_rows(model: LoadedModel) -> int:
    """The largest request that runs inline (for the log line and the docs' figures)."""
    cost = _COSTS.get(model)
    if cost is None:
        return INLINE_ROWS
    if cost.fixed_s > INLINE_BUDGET_S:
        return 0
    return int((INLINE_BUDGET_S - cost.fixed_s) / cost.per_row_s) + 1
