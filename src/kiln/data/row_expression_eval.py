"""Evaluating a row expression on a typed frame, vectorised, with SQL's three-valued logic.

Each node becomes a whole-column pandas operation; nothing of the text is ever run. A comparison
with a missing operand is unknown (``NA``), ``and``/``or``/``not`` follow Kleene logic (pandas'
``boolean`` dtype), and a rule fails a row only where its condition is false, as a SQL CHECK does:
missing values are the not-null rules' business, not every expression's.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.row_expression import (
    Arithmetic,
    Column,
    Comparison,
    Constant,
    Expr,
    InList,
    Logical,
    Negate,
    Not,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def false_rows(expr: Expr, frame: pd.DataFrame) -> np.ndarray:
    """The positions of the rows where ``expr`` is false (not where it is unknown)."""
    result = _condition(expr, frame)
    return np.flatnonzero(result.eq(False).fillna(False).to_numpy(dtype=bool))


def _condition(expr: Expr, frame: pd.DataFrame) -> pd.Series:
    if isinstance(expr, Logical):
        parts = [_condition(operand, frame) for operand in expr.operands]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if expr.op == "and" else combined | part
        return combined
    if isinstance(expr, Not):
        return ~_condition(expr.operand, frame)
    if isinstance(expr, Comparison):
        left, right = _value(expr.left, frame), _value(expr.right, frame)
        left, right = _align_datetimes(left, right), _align_datetimes(right, left)
        return _unknown_where_missing(_COMPARE[expr.op](left, right), frame, left, right)
    if isinstance(expr, InList):
        operand = _value(expr.operand, frame)
        values = list(expr.values)
        if isinstance(operand, pd.Series) and isinstance(operand.dtype, pd.DatetimeTZDtype):
            values = [_timestamp(value) for value in values]
        if not isinstance(operand, pd.Series):
            operand = pd.Series([operand] * len(frame), index=frame.index)
        found = operand.isin(values)
        return _unknown_where_missing(~found if expr.negated else found, frame, operand)
    value = _value(expr, frame)  # a boolean column or True/False
    if isinstance(value, pd.Series):
        return value.astype("boolean")
    return pd.Series(bool(value), index=frame.index, dtype="boolean")


def _value(expr: Expr, frame: pd.DataFrame) -> Any:
    if isinstance(expr, Column):
        column = frame[expr.name]
        if pd.api.types.is_integer_dtype(column.dtype):
            # Nullable integers become floats (NaN for missing), so arithmetic and comparison
            # share one missing-value convention, tracked by ``_unknown_where_missing``.
            return column.astype("float64")
        return column
    if isinstance(expr, Constant):
        return expr.value
    if isinstance(expr, Negate):
        return -_value(expr.operand, frame)
    if isinstance(expr, Arithmetic):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _ARITHMETIC[expr.op](_value(expr.left, frame), _value(expr.right, frame))
    return _condition(expr, frame)


def _unknown_where_missing(result: Any, frame: pd.DataFrame, *operands: Any) -> pd.Series:
    if not isinstance(result, pd.Series):
        result = pd.Series(bool(result), index=frame.index)
    judged = result.astype("boolean")
    for operand in operands:
        if isinstance(operand, pd.Series):
            judged = judged.mask(operand.isna().to_numpy(), pd.NA)
    return judged


def _align_datetimes(value: Any, other: Any) -> Any:
    """A string compared with a datetime column is read as a UTC timestamp."""
    if (
        isinstance(value, str)
        and isinstance(other, pd.Series)
        and isinstance(other.dtype, pd.DatetimeTZDtype)
    ):
        return _timestamp(value)
    return value


def _timestamp(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
