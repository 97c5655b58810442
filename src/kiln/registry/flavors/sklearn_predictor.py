"""A scikit-learn estimator called the cheap way, where that gives the same answers.

Three savings over calling the estimator as a user would, each decided once when the model loads:

- **one call**: ``predict_proba`` alone answers classes and probabilities (``sklearn_one_call``);
- **a plain matrix** instead of a DataFrame, in the signature's column order, when every input is a
  number: building a one-row DataFrame, and scikit-learn taking it apart again, costs more than the
  model. A model fitted on a DataFrame remembers its column names and warns on every call without
  them, so it is called through a *twin*: a shallow copy of it (and of its Pipeline's steps) without
  ``feature_names_in_``, sharing every fitted array. The twin is used only when, on the model's own
  example input, it answers what the model answers on the DataFrame (the same classes, the same
  probabilities to rounding) and warns nothing. The model's answer is the one recorded when it was
  saved (``example_answer``), so no DataFrame is built here, or for folders without one, the
  model's answer now. A ColumnTransformer that picks columns by name
  raises on a matrix, a meta-estimator whose inner estimators hold names warns: both keep the
  DataFrame;
- **trusted checks**: Kiln's signature check has already checked every input's type and range, so
  when the numbers are also finite (one numpy pass) scikit-learn's finiteness scan is off for the
  call (``assume_finite``), and so are its parameter checks (``skip_parameter_validation``: they
  were checked at fit). ``config_context`` is thread-local. NaN or infinity, which some models take
  and others refuse, leave scikit-learn's finiteness checks on.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from kiln.registry.flavors.base import EstimatorPredictor, PredictionResult
from kiln.registry.flavors.example_answer import ExampleAnswer
from kiln.registry.flavors.sklearn_one_call import classes_follow_probabilities
from kiln.registry.model_format import FieldType, Scalar, Signature
from kiln.registry.signature import ModelInput
from kiln.registry.signature_validation import RecordValidator

_NUMERIC = frozenset({FieldType.number, FieldType.integer})


class SklearnPredictor(EstimatorPredictor):
    """``EstimatorPredictor`` for scikit-learn estimators (skops or trusted pickle payloads)."""

    def __init__(
        self,
        model: Any,
        signature: Signature,
        *,
        example: dict[str, Scalar | None] | None = None,
        recorded: ExampleAnswer | None = None,
    ) -> None:
        super().__init__(model, signature)
        from sklearn import config_context  # here, not at import: serving without sklearn never loads it

        self._config_context = config_context
        self.one_call = self._proba and classes_follow_probabilities(model)
        numeric = bool(signature.inputs) and all(spec.type in _NUMERIC for spec in signature.inputs)
        # The estimator to call with a matrix: the model itself when it was fitted on one.
        self.matrix_model: Any = None
        if numeric and not self.wants_frame:
            self.matrix_model = model
        elif numeric and (example is not None or recorded is not None):
            self.matrix_model = self._proven_twin(example, recorded)

    def predict(self, X: Any, *, probabilities: bool = True) -> PredictionResult:
        if not isinstance(X, ModelInput):
            return super().predict(X, probabilities=probabilities)
        if self.matrix_model is not None:
            matrix = X.matrix()
            finite = bool(np.isfinite(matrix).all())
            # Parameters were validated at fit; the inputs by the signature (and finiteness just now).
            with self._config_context(assume_finite=finite, skip_parameter_validation=True):
                return self.answer(self.matrix_model, matrix, probabilities=probabilities)
        return super().predict(X, probabilities=probabilities)

    def _proven_twin(self, example: dict[str, Scalar | None] | None, recorded: ExampleAnswer | None) -> Any:
        """The model's twin without feature names, or None unless it answers as the model does: as
        the model answered its example when it was saved (no DataFrame built, so no pandas loaded
        here), else as it answers the example on a DataFrame now."""
        twin = without_feature_names(self.model)
        if recorded is not None and self._answers(twin, recorded.example, recorded.answer):
            return twin
        if example is None:
            return None
        try:
            sample = RecordValidator(self.signature).validate([example])
            expected = self.answer(self.model, self.model_input(sample), probabilities=True)
        except Exception:  # a model that cannot take its example at all: keep the frame
            return None
        return twin if self._answers(twin, example, expected) else None

    def _answers(self, twin: Any, example: dict[str, Scalar | None], expected: PredictionResult) -> bool:
        """The twin, called with ``example`` as a matrix, answers ``expected`` and warns nothing."""
        try:
            sample = RecordValidator(self.signature).validate([example])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                got = self.answer(twin, sample.matrix(), probabilities=True)
        except Exception:  # a model that cannot take a matrix (columns chosen by name): keep the frame
            return False
        return _same(got, expected) and not caught


def _same(got: PredictionResult, expected: PredictionResult) -> bool:
    """The same classes, and the same numbers up to rounding (a matrix and a DataFrame may sum in
    another order: the last bit of a probability can differ, as between two DataFrames)."""
    if got.predictions != expected.predictions or got.classes != expected.classes:
        return False
    for mine, theirs in ((got.probabilities, expected.probabilities), (got.scores, expected.scores)):
        if (mine is None) != (theirs is None):
            return False
        if mine is not None and not np.allclose(
            np.array(mine, dtype=float), np.array(theirs, dtype=float), rtol=1e-9, atol=1e-12, equal_nan=True
        ):
            return False
    return True


def without_feature_names(model: Any) -> Any:
    """A shallow copy of ``model`` (and of each step of a Pipeline, nested ones too) that has no
    ``feature_names_in_``; the fitted arrays are shared, not copied. ``model`` is left as it is."""
    from sklearn.pipeline import Pipeline

    twin = copy.copy(model)
    if isinstance(twin, Pipeline):
        twin.steps = [(name, without_feature_names(step)) for name, step in twin.steps]
    if "feature_names_in_" in getattr(twin, "__dict__", {}):  # steps may be "passthrough"
        del twin.feature_names_in_
    return twin
