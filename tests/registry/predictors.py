"""Installed code the model-folder tests name as python-function entry points and skops types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class ThresholdPredictor:
    """A python-function model: flags rows whose latency is above the threshold in its folder."""

    def __init__(self, folder: Path) -> None:
        self.threshold = float(json.loads((folder / "threshold.json").read_text())["latency_ms"])

    def predict(self, frame: Any) -> list[str]:
        return ["slow" if value > self.threshold else "ok" for value in frame["latency_ms"]]


class Doubler(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A custom transformer: a type skops has never heard of."""

    def fit(self, X: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, X: Any) -> Any:
        return np.asarray(X) * 2


class BrokenPredictor:
    """A python-function model whose every prediction fails, as code with a bug does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def predict(self, frame: Any) -> list[str]:
        raise KeyError("latency_ms is not a column this model knows\nTraceback (most recent call last): ...")
