"""What every flavor answers: a predictor over validated input, giving one JSON-ready result shape."""

from __future__ import annotations

import json
from typing import Any, Protocol

import numpy as np
import orjson

from kiln.registry.flavors.sklearn_one_call import classes_from_probabilities
from kiln.registry.model_format import OutputSpec, Scalar, Signature
from kiln.registry.signature import ModelInput


class PredictionResult:
    """Predictions, and per-class probabilities or anomaly scores when the model gives them.

    Every list is JSON-safe (Python scalars, NaN as null): serving puts ``to_dict()`` on the wire.
    ``probabilities[i][j]`` is row i's probability of ``classes[j]``; for outlier detectors
    ``scores`` are the decision function (below 0: an outlier) and predictions are -1 / 1.

    A flavor may hand over numpy arrays instead of lists (``json_ready``: only where orjson writes
    them exactly as their lists would be written). They become lists only when a list is asked for;
    ``to_json()`` writes them straight from the arrays, which on a 1,000-row batch is a fraction of
    building the lists (serving's answer and its prediction log share that one encoding).
    """

    __slots__ = ("_parts",)

    def __init__(
        self,
        predictions: list[Any] | np.ndarray,
        classes: list[Scalar] | None = None,
        probabilities: list[list[float | None]] | np.ndarray | None = None,
        scores: list[float | None] | np.ndarray | None = None,
    ) -> None:
        parts = {"predictions": predictions, "classes": classes, "probabilities": probabilities}
        parts["scores"] = scores
        self._parts: dict[str, Any] = parts

    @property
    def predictions(self) -> list[Any]:
        predictions: list[Any] = self._list("predictions")
        return predictions

    @property
    def classes(self) -> list[Scalar] | None:
        classes: list[Scalar] | None = self._list("classes")
        return classes

    @property
    def probabilities(self) -> list[list[float | None]] | None:
        probabilities: list[list[float | None]] | None = self._list("probabilities")
        return probabilities

    @property
    def scores(self) -> list[float | None] | None:
        scores: list[float | None] | None = self._list("scores")
        return scores

    def _list(self, key: str) -> Any:
        value = self._parts[key]
        if isinstance(value, np.ndarray):
            value = self._parts[key] = json_list(value)
        return value

    def __len__(self) -> int:
        return len(self._parts["predictions"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PredictionResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PredictionResult({self.to_dict()!r})"

    def to_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"predictions": self.predictions}
        for key in ("classes", "probabilities", "scores"):
            if self._parts[key] is not None:
                answer[key] = self._list(key)
        return answer

    def to_json(self) -> bytes:
        """``to_dict()`` as compact JSON (the arrays written as they are, no lists built)."""
        document = {key: value for key, value in self._parts.items() if value is not None}
        try:
            return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError:  # an integer class past 64 bits, say: the standard library writes it
            return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode()


class Predictor(Protocol):
    """A loaded payload. ``X`` is a validated ``ModelInput``, or the caller's data as-is when the
    signature lists no inputs (a format-1 model saved without training data)."""

    model: Any

    def predict(self, X: Any, *, probabilities: bool = True) -> PredictionResult: ...


def json_list(values: Any) -> list[Any]:
    """A 1-D or 2-D result as nested Python lists; NaN and infinity become null."""
    array = np.asarray(values)
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        as_object = array.astype(object)
        as_object[~np.isfinite(array)] = None
        return list(as_object.tolist())
    if array.dtype.kind == "O":
        return [_json_cell(value) for value in array.tolist()]
    return list(array.tolist())


# Arrays that orjson writes exactly as ``json_list`` would have them written (floats in the same
# shortest form, NaN and infinity as null). float32 is left out: as lists its values are doubles.
_JSON_READY_KINDS = frozenset("biu")


def json_ready(values: Any) -> np.ndarray | list[Any]:
    """A 1-D or 2-D numeric result as an array ``PredictionResult`` can write directly, else as
    ``json_list``'s lists."""
    array = np.asarray(values)
    if array.ndim in (1, 2) and (
        (array.dtype.kind in _JSON_READY_KINDS and array.dtype.itemsize <= 8) or array.dtype == np.float64
    ):
        return np.ascontiguousarray(array)
    return json_list(array)


def _json_cell(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list):
        return [_json_cell(item) for item in value]
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


class EstimatorPredictor:
    """Anything shaped like a scikit-learn estimator: ``predict``, maybe ``predict_proba``, and for
    outlier detectors ``decision_function`` or ``score_samples``."""

    def __init__(self, model: Any, signature: Signature, *, wants_frame: bool | None = None) -> None:
        self.model = model
        self.signature = signature
        self.outputs: OutputSpec = signature.outputs
        # A model fitted on a DataFrame wants one back (column names, categorical dtypes).
        self.wants_frame = signature.input_kind == "dataframe" if wants_frame is None else wants_frame
        self._proba = callable(getattr(model, "predict_proba", None)) and self.outputs.kind != "score"
        self._score = next(
            (name for name in ("decision_function", "score_samples") if callable(getattr(model, name, None))),
            None,
        )
        self.classes = self._classes()  # the same for every answer: listed once
        # Set by flavors that know ``predict`` is the argmax of ``predict_proba`` (sklearn_one_call).
        self.one_call = False

    def model_input(self, X: Any) -> Any:
        if not isinstance(X, ModelInput):
            return X
        if self.wants_frame:
            try:
                return X.frame()
            except ImportError:  # no pandas here: the matrix in the same column order still predicts
                return X.matrix()
        return X.matrix()

    def predict(self, X: Any, *, probabilities: bool = True) -> PredictionResult:
        return self.answer(self.model, self.model_input(X), probabilities=probabilities)

    def answer(self, model: Any, data: Any, *, probabilities: bool) -> PredictionResult:
        """``model`` (this predictor's, or a flavor's stand-in for it) called on ``data``."""
        classes = self.classes
        if self.outputs.kind == "score" and self._score is not None:
            predictions = json_ready(np.ravel(np.asarray(model.predict(data))))
            scores = json_ready(np.ravel(getattr(model, self._score)(data)))
            return PredictionResult(predictions, classes=classes, scores=scores)
        if probabilities and self._proba:
            proba = np.asarray(model.predict_proba(data))
            if self.one_call:
                predicted = classes_from_probabilities(model, proba, data)
            else:
                predicted = np.asarray(model.predict(data))
            predictions = json_ready(np.ravel(predicted))
            return PredictionResult(predictions, classes=classes, probabilities=json_ready(proba))
        predictions = json_ready(np.ravel(np.asarray(model.predict(data))))
        return PredictionResult(predictions, classes=classes)

    def _classes(self) -> list[Scalar] | None:
        classes = getattr(self.model, "classes_", None)
        if classes is not None:
            return json_list(classes)
        return self.outputs.classes
