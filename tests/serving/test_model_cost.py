"""A model's cost is measured at warm-up: a small request of a cheap model is predicted on the event
loop, an expensive model's go to a thread; batches always do, and without a measurement (no
example input) requests go by rows, as before.

No timings are asserted: only that the estimate exists, grows with rows, and is what decides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

import kiln
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.serving.model_cost import (
    _COSTS,
    INLINE_BUDGET_S,
    INLINE_ROWS,
    ModelCost,
    inline_rows,
    measure_cost,
    runs_inline,
)


def _model(folder: Path) -> LoadedModel:
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    kiln.save_model(LogisticRegression().fit(X, [0, 0, 1, 1]), folder, X=X)
    return load_model_folder(folder)


def test_a_model_with_an_example_is_measured(tmp_path: Path) -> None:
    model = _model(tmp_path / "model")
    cost = measure_cost(model)
    assert cost is not None
    assert 0 < cost.seconds(1) < cost.seconds(1000)
    assert runs_inline(model, 1) == (cost.seconds(1) <= INLINE_BUDGET_S)
    assert not runs_inline(model, INLINE_ROWS + 1)  # batches keep the thread, however cheap
    assert runs_inline(model, inline_rows(model)) or inline_rows(model) == 0
    assert not runs_inline(model, inline_rows(model) + 1)


def test_an_expensive_model_goes_to_a_thread_even_for_one_row(tmp_path: Path) -> None:
    model = _model(tmp_path / "model")
    measure_cost(model)
    _COSTS[model] = ModelCost(fixed_s=INLINE_BUDGET_S * 5, per_row_s=1e-6)
    assert not runs_inline(model, 1)
    assert inline_rows(model) == 0


def test_a_model_not_measured_goes_by_rows(tmp_path: Path) -> None:
    _model(tmp_path / "model")
    fresh = load_model_folder(tmp_path / "model")  # not measured: no entry for this load
    assert runs_inline(fresh, INLINE_ROWS)
    assert not runs_inline(fresh, INLINE_ROWS + 1)
