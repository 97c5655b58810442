"""A model's cost is measured at warm-up and decides whether a checked batch is predicted on the
event loop; without a measurement (no example input) batches go by rows, as before.

No timings are asserted: only that the estimate exists, grows with rows, and is what decides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

import kiln
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.serving.model_cost import INLINE_BUDGET_S, INLINE_ROWS, inline_rows, measure_cost, runs_inline


def _model(folder: Path) -> LoadedModel:
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    kiln.save_model(LogisticRegression().fit(X, [0, 0, 1, 1]), folder, X=X)
    return load_model_folder(folder)


def test_a_model_with_an_example_is_measured(tmp_path: Path) -> None:
    model = _model(tmp_path / "model")
    cost = measure_cost(model)
    assert cost is not None
    assert 0 < cost.seconds(1) < cost.seconds(1000)
    assert runs_inline(model, 1000) == (cost.seconds(1000) <= INLINE_BUDGET_S)
    assert runs_inline(model, inline_rows(model)) or inline_rows(model) == 0
    assert not runs_inline(model, inline_rows(model) + 1)


def test_a_model_not_measured_goes_by_rows(tmp_path: Path) -> None:
    _model(tmp_path / "model")
    fresh = load_model_folder(tmp_path / "model")  # not measured: no entry for this load
    assert runs_inline(fresh, INLINE_ROWS)
    assert not runs_inline(fresh, INLINE_ROWS + 1)
