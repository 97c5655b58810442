"""Signature inference: a signature built from a model's training input, and an example record.

``infer_signature`` reads names, types, observed ranges and categories off the training input (a
DataFrame, an array, a sparse matrix, a list of rows); ``infer_outputs`` says what the estimator
answers (a class, a score, a value); ``example_input`` is the first row as one JSON-safe record,
kept with the model for its staging smoke test and serving's warm-up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kiln.registry.model_format import FieldSpec, FieldType, OutputSpec, Scalar, Signature, field_type_of
from kiln.registry.signature import NULL_TYPES, is_frame, is_null, json_scalar

# A text column with at most this many distinct values becomes a category field.
MAX_INFERRED_CATEGORIES = 20


def infer_signature(
    X: Any, estimator: Any = None, *, max_categories: int = MAX_INFERRED_CATEGORIES
) -> Signature:
    """The signature of a model trained on ``X`` (a DataFrame, an array, a list of rows).

    A DataFrame gives named fields (``dataframe``); an array gives ``x0..xn`` or the estimator's
    ``feature_names_in_`` (``tensor``). A column with missing values is optional (default null); text
    columns with few distinct values, and pandas categoricals, become category fields.
    """
    outputs = infer_outputs(estimator)
    if is_frame(X):
        fields = [_infer_field(str(name), X[name]) for name in X.columns]
        fields = [_as_category(spec, X[spec.name], max_categories) for spec in fields]
        return Signature(input_kind="dataframe", inputs=fields, outputs=outputs)
    if hasattr(X, "tocsr"):  # a sparse matrix: names only, its values are not worth densifying here
        names = _names(int(X.shape[1]), estimator)
        return Signature(
            input_kind="tensor", inputs=[FieldSpec(name=name) for name in names], outputs=outputs
        )
    array = np.asarray(X)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        return Signature(input_kind="tensor", outputs=outputs)
    fields = []
    for index, name in enumerate(_names(array.shape[1], estimator)):
        column = array[:, index]
        spec = _infer_field(name, column)
        fields.append(_as_category(spec, column, max_categories))
    return Signature(input_kind="tensor", inputs=fields, outputs=outputs)


def infer_outputs(estimator: Any) -> OutputSpec:
    """Class (with ``classes_``), score (outlier detectors: -1 outlier, 1 inlier) or value."""
    if estimator is None:
        return OutputSpec()
    if _is_outlier_detector(estimator):
        return OutputSpec(kind="score", classes=[-1, 1])
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        return OutputSpec(
            kind="class",
            classes=[json_scalar(value) for value in np.asarray(classes).tolist()],
            probabilities=hasattr(estimator, "predict_proba"),
        )
    return OutputSpec()


def example_input(X: Any, signature: Signature | None = None) -> dict[str, Scalar | None]:
    """The first row of ``X`` as one JSON-safe record (the staging smoke test and serving warm-up)."""
    if is_frame(X):
        row = X.iloc[0]
        return {str(name): json_scalar(row[name]) for name in X.columns}
    if hasattr(X, "tocsr"):
        X = X[0].toarray()
    first = np.asarray(X)
    first = first.reshape(1, -1)[0] if first.ndim == 1 else first[0]
    names = [spec.name for spec in signature.inputs] if signature is not None else []
    if len(names) != len(first):
        names = [f"x{index}" for index in range(len(first))]
    return {name: json_scalar(value) for name, value in zip(names, first.tolist(), strict=True)}


def _names(n: int, estimator: Any) -> list[str]:
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n:
        return [str(name) for name in names]
    return [f"x{index}" for index in range(n)]


def _is_outlier_detector(estimator: Any) -> bool:
    try:
        from sklearn.base import is_outlier_detector
    except ImportError:  # not a scikit-learn model: go by the convention sklearn itself used
        return getattr(estimator, "_estimator_type", None) == "outlier_detector"
    return bool(is_outlier_detector(estimator))


def _infer_field(name: str, column: Any) -> FieldSpec:
    dtype = str(column.dtype)
    values = np.asarray(column)
    if dtype == "object" and values.size:
        dtype = _object_dtype(values)
    kind = field_type_of(dtype)
    nulls = _null_mask(values)
    spec = FieldSpec(name=name, type=kind, required=not bool(nulls.any()), dtype=str(column.dtype))
    if kind in (FieldType.number, FieldType.integer) and values.dtype.kind in "iuf" and not nulls.all():
        numbers = values[~nulls].astype(float)
        spec.observed_min, spec.observed_max = float(numbers.min()), float(numbers.max())
    return spec


def _object_dtype(values: np.ndarray) -> str:
    """An object column holding only numbers (or only bools) is typed as such."""
    types = set(map(type, values.tolist())) - NULL_TYPES
    if types and types <= {bool}:
        return "bool"
    if types and types <= {int}:
        return "int64"
    if types and types <= {int, float}:
        return "float64"
    return "object"


def _as_category(spec: FieldSpec, column: Any, max_categories: int) -> FieldSpec:
    categories = getattr(getattr(column, "cat", None), "categories", None)
    allowed: list[Scalar | None]
    if categories is not None:  # a pandas categorical says its categories itself
        allowed = [json_scalar(value) for value in list(categories)[:10_000]]
    elif spec.type is FieldType.string:
        values = np.asarray(column, dtype=object)
        distinct = {value for value in values[~_null_mask(values)].tolist() if isinstance(value, str)}
        if not distinct or len(distinct) > max_categories:
            return spec
        allowed = [*sorted(distinct)]
    else:
        return spec
    return spec.model_copy(update={"type": FieldType.category, "allowed": allowed})


def _null_mask(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        nan: np.ndarray = np.isnan(values)
        return nan
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    return np.fromiter((is_null(value) for value in values.tolist()), dtype=bool, count=values.size)
