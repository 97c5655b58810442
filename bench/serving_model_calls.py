"""What one prediction of the serving benchmark's model costs, by the way the model is called.

    .venv/bin/python -m bench.serving_model_calls [--calls 300]

In process, no HTTP: the breast-cancer pipeline (StandardScaler + LogisticRegression) on one row,
called as Kiln's predict path calls it today (``predict`` and ``predict_proba`` on a one-row
DataFrame) and the cheaper ways it could be called, down to the same arithmetic in numpy; last, what
Kiln's own path costs on the same row (``kiln.validate_us``, ``kiln.predict_us``: the signature
check, and the loaded model's predictor on the checked input). Each figure is the best of 5 rounds
of ``--calls`` calls, in µs per call, printed as ``name: value unit``. Almost all of it is
scikit-learn checking its input, not the model's arithmetic.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

import kiln
from bench.serving_model import train, without_feature_names
from kiln.registry.loaded_model import load_model_folder


def best_us(call: Callable[[], Any], calls: int) -> float:
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        rounds.append((time.perf_counter() - started) / calls)
    return min(rounds) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    trained = train()
    model, plain = trained.model, without_feature_names(trained.model)
    frame = trained.X.iloc[[0]]
    matrix = frame.to_numpy()
    records = trained.records(1)
    scaler, linear = plain.steps[0][1], plain.steps[1][1]

    def by_hand() -> np.ndarray:
        z = (matrix - scaler.mean_) / scaler.scale_
        p = 1 / (1 + np.exp(-(z @ linear.coef_.T + linear.intercept_)))
        return np.hstack([1 - p, p])

    figures: list[tuple[str, Callable[[], Any]]] = [
        ("frame_from_records", lambda: pd.DataFrame(records)),
        ("predict_and_proba_frame", lambda: (model.predict(frame), model.predict_proba(frame))),
        ("proba_only_frame", lambda: model.predict_proba(frame)),
        ("predict_and_proba_array", lambda: (plain.predict(matrix), plain.predict_proba(matrix))),
        ("proba_only_array", lambda: plain.predict_proba(matrix)),
    ]
    for name, call in figures:
        print(f"model.{name}_us: {best_us(call, calls):.1f} us", flush=True)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        trusted = best_us(lambda: plain.predict_proba(matrix), calls)
    print(f"model.proba_only_array_assume_finite_us: {trusted:.1f} us")
    print(f"model.numpy_by_hand_us: {best_us(by_hand, calls):.1f} us")
    with tempfile.TemporaryDirectory() as folder:
        kiln.save_model(model, Path(folder) / "model", X=trained.X)
        loaded = load_model_folder(Path(folder) / "model")
    checked = loaded.validate(records)
    print(f"kiln.validate_us: {best_us(lambda: loaded.validate(records), calls):.1f} us")
    print(f"kiln.predict_us: {best_us(lambda: loaded.predictor.predict(checked), calls):.1f} us")


if __name__ == "__main__":
    main()
