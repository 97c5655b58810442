"""Turning a batch's columns into their declared types, naming each cell that does not convert.

Kiln converts, pandera checks the converted frame (``conformance``). Pandera can coerce too, but
under lazy validation a column with one bad cell stays uncoerced and every other check on it fails
as a whole-column TypeError (so its range violations are lost), and it lets ``2.5`` into an integer
column unreported; a per-row verdict needs the conversion done here, vectorised per column.

A cell that does not convert becomes missing in the typed frame and is reported as a ``type``
violation; a column in which no value converts refuses the whole batch (``FrameRejected``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.rules_errors import FrameRejected
from kiln.data.spec import ColumnSpec, ColumnType, DatasetSchema
from kiln.data.violations import combine, format_value, violations

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_BOOLEANS = {"true": True, "false": False, "t": True, "f": False, "yes": True, "no": False}
_BOOLEANS |= {"1": True, "0": False, "1.0": True, "0.0": False}
_UTC = "datetime64[us, UTC]"
_WHAT = {
    ColumnType.integer: "an integer",
    ColumnType.number: "a number",
    ColumnType.boolean: "true or false",
    ColumnType.datetime: "an ISO 8601 date or time",
}


@dataclass(frozen=True)
class Coerced:
    """The typed frame (declared columns, in declared order) and what did not convert."""

    frame: pd.DataFrame
    # Per column: the rows whose value did not convert (they are missing in ``frame``, not null).
    failed: dict[str, np.ndarray]
    violations: pd.DataFrame


def check_columns(frame: pd.DataFrame, schema: DatasetSchema) -> None:
    """``FrameRejected`` unless the batch has exactly the declared columns (in any order)."""
    declared = [column.name for column in schema.columns]
    given = [str(name) for name in frame.columns]
    missing = [name for name in declared if name not in given]
    if missing:
        raise FrameRejected(
            f"column `{missing[0]}` is declared in the schema but missing from the data",
            details={"column": missing[0], "missing": missing},
        )
    extra = [name for name in given if name not in declared]
    if extra:
        raise FrameRejected(
            f"column `{extra[0]}` is not declared in the schema; declare it or leave it out",
            details={"column": extra[0], "undeclared": extra},
        )
    repeated = sorted({name for name in given if given.count(name) > 1})
    if repeated:
        raise FrameRejected(f"column `{repeated[0]}` appears more than once", details={"column": repeated[0]})


def coerce_frame(frame: pd.DataFrame, schema: DatasetSchema) -> Coerced:
    """The batch (indexed 0..n-1, exactly the declared columns) in its declared types."""
    typed: dict[str, pd.Series] = {}
    failed: dict[str, np.ndarray] = {}
    found: list[pd.DataFrame] = []
    for spec in schema.columns:
        source = frame[spec.name]
        values, problems = _coerce(source, spec)
        typed[spec.name] = values
        if not problems:
            continue
        rows = np.flatnonzero(np.logical_or.reduce([mask for mask, _ in problems]))
        if len(rows) == int(source.notna().sum()):
            first = int(rows[0])
            raise FrameRejected(
                f"column `{spec.name}`: no value is {_WHAT[spec.type]} (row {first} holds "
                f"{format_value(source.iloc[first])}); check the column or its declared type",
                details={"column": spec.name, "row": first, "type": spec.type.value},
            )
        failed[spec.name] = rows
        for mask, problem in problems:
            bad = np.flatnonzero(mask)
            reasons = [f"{spec.name}: {format_value(source.iloc[row])} {problem}" for row in bad]
            found.append(violations(bad, "type", spec.name, reasons))
    return Coerced(pd.DataFrame(typed, index=frame.index), failed, combine(found))


# Per kind of failure: which cells, and what follows the value in their reason. Empty: all converted.
_Problems = list[tuple[np.ndarray, str]]


def _coerce(source: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, _Problems]:
    if spec.type in (ColumnType.integer, ColumnType.number):
        return _numeric(source, integer=spec.type is ColumnType.integer)
    if spec.type is ColumnType.boolean:
        return _boolean(source)
    if spec.type is ColumnType.datetime:
        return _datetime(source)
    return _text(source), []


def _numeric(source: pd.Series, *, integer: bool) -> tuple[pd.Series, _Problems]:
    if pd.api.types.is_integer_dtype(source.dtype):
        # Already integers (numpy or nullable): converting through floats would round big ones.
        return source.astype("Int64" if integer else "float64"), []
    if pd.api.types.is_bool_dtype(source.dtype):
        source = source.astype("Float64")
    values = pd.to_numeric(source, errors="coerce").astype("float64").to_numpy()
    problems = _found(
        (source.notna().to_numpy() & np.isnan(values), "is not a number"),
        (np.isinf(values), "is not a finite number"),
    )
    if integer:
        with np.errstate(invalid="ignore"):
            fractional = np.isfinite(values) & (np.mod(values, 1) != 0)
        # Beyond 64 bits an integer would wrap around (1e30 would read as a negative number).
        outside = np.isfinite(values) & (np.abs(values) >= 2.0**63)
        problems = _found(
            (np.logical_or.reduce([fractional, *(m for m, _ in problems)]), "is not an integer"),
            (outside, "is beyond the 64-bit integer range"),
        )
    if problems:
        values = np.where(np.logical_or.reduce([mask for mask, _ in problems]), np.nan, values)
    if integer:
        return pd.Series(pd.array(values, dtype="Float64"), index=source.index).astype("Int64"), problems
    return pd.Series(values, index=source.index, dtype="float64"), problems


def _boolean(source: pd.Series) -> tuple[pd.Series, _Problems]:
    if pd.api.types.is_bool_dtype(source.dtype):
        return source.astype("boolean"), []
    mapped = source.astype("str").str.strip().str.lower().map(_BOOLEANS)
    return mapped.astype("boolean"), _found(
        (source.notna().to_numpy() & mapped.isna().to_numpy(), "is not true or false")
    )


def _datetime(source: pd.Series) -> tuple[pd.Series, _Problems]:
    """UTC at microseconds (Parquet's usual unit), whatever the input's unit: batches concatenate."""
    problem = "is not an ISO 8601 date or time"
    if isinstance(source.dtype, pd.DatetimeTZDtype):
        return source.dt.tz_convert("UTC").astype(_UTC), []
    if pd.api.types.is_datetime64_dtype(source.dtype):
        return source.dt.tz_localize("UTC").astype(_UTC), []
    present = source.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(source.dtype) or pd.api.types.is_bool_dtype(source.dtype):
        # Epoch numbers are ambiguous (seconds? milliseconds?): refuse rather than guess.
        return pd.Series(pd.NaT, index=source.index, dtype=_UTC), _found((present, problem))
    parsed = pd.to_datetime(source.astype("str"), format="ISO8601", utc=True, errors="coerce").astype(_UTC)
    return parsed, _found((present & parsed.isna().to_numpy(), problem))


def _found(*problems: tuple[np.ndarray, str]) -> _Problems:
    return [(mask, problem) for mask, problem in problems if mask.any()]


def _text(source: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(source.dtype):
        # A text column read as floats (say ids 17, 18 and a blank) keeps "17", not "17.0".
        return source.map(lambda value: format_value(value).strip("'"), na_action="ignore").astype("str")
    return source.astype("str")
