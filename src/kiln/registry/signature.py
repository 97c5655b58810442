"""A signature's values: the typed columns a model is given, and what counts as a value at all.

``ModelInput`` is what checking a request against a signature answers (``signature_validation``):
the fields' columns in the signature's order, one numpy array each, as a matrix or a DataFrame.
Inference (``signature_inference``) and validation share the rest: which cells are null (None, a
missing key, NaN, pandas' NA and NaT), what a DataFrame looks like without importing pandas, and
``json_scalar``, a value standard JSON can carry. pandas is optional here (only
``ModelInput.frame`` needs it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.registry.model_format import FieldSpec, Scalar

# A field left out of a record: not None, which a caller may send (a JSON null).
MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()
NULL_TYPES = frozenset({type(None), type(MISSING)})


@dataclass(frozen=True)
class ModelInput:
    """Validated columns in the signature's order, one numpy array each; the model's input."""

    fields: tuple[FieldSpec, ...]
    columns: tuple[np.ndarray, ...]
    n_rows: int
    # The float64 matrix the columns are views of, when they came from one (``NumericRecords``):
    # ``matrix()`` answers it rather than copying the columns into a new one.
    dense: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    def matrix(self) -> np.ndarray:
        """A 2-D array (rows by fields): float64 when every column is numeric, else object."""
        if self.dense is not None:
            return self.dense
        if not self.columns:
            return np.empty((self.n_rows, 0))
        numeric = all(column.dtype.kind in "iufb" for column in self.columns)
        dtype = np.float64 if numeric else object
        matrix = np.empty((self.n_rows, len(self.columns)), dtype=dtype)
        for index, column in enumerate(self.columns):
            matrix[:, index] = column
        return matrix

    def frame(self) -> Any:
        """A pandas DataFrame with the training dtypes where they can be restored."""
        import pandas as pd

        data: dict[str, Any] = {}
        for spec, column in zip(self.fields, self.columns, strict=True):
            if spec.dtype == "category" and spec.allowed:
                data[spec.name] = pd.Categorical(column, categories=spec.allowed)
            elif spec.dtype and column.dtype.kind in "iuf" and _numpy_numeric(spec.dtype):
                target = np.dtype(spec.dtype)
                # An integer column with a filled-in null stays float (NaN has no integer spelling).
                keep_float = target.kind in "iu" and column.dtype.kind == "f"
                data[spec.name] = column if keep_float else column.astype(target, copy=False)
            else:
                data[spec.name] = column
        return pd.DataFrame(data, index=pd.RangeIndex(self.n_rows), copy=False)


def _numpy_numeric(dtype: str) -> bool:
    try:
        return np.dtype(dtype).kind in "iuf"
    except TypeError:  # pandas' own dtypes (Int64, string, ...)
        return False


def is_frame(X: Any) -> bool:
    """A DataFrame, told by its shape (pandas need not be installed)."""
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def is_null(value: Any) -> bool:
    # None, a JSON null, a missing key, NaN, pandas' NA and NaT.
    if value is None or value is MISSING:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ in ("NAType", "NaTType")


def json_scalar(value: Any) -> Scalar | None:
    """A value standard JSON can carry (numpy scalars unwrapped, NaN and infinity as null)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if value is None or is_null(value):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
