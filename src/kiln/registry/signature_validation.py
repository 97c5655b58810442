"""Signature validation: every prediction request checked against the model's signature.

``validate_records`` (and ``RecordValidator``, the signature compiled once for a loaded model) turns
a request (records, columns, a DataFrame or rows of values) into a ``ModelInput``: typed numpy
columns in the signature's order. Or it raises ``ValidationFailed`` listing every problem with the
field it concerns, in words a caller can act on: ``latency_ms: expected a number between 0 and
10000, got 'abc' (row 3)``.

Validation is on the serving hot path, so it works per column, not per cell: the set of Python types
in a column is taken once (a C-speed pass), a clean column becomes one numpy array, and range and
membership checks are vectorised. Cell by cell work happens only for the cells of a column that holds
something unexpected, to name them.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.core.errors import ValidationFailed
from kiln.registry.model_format import FieldSpec, FieldType, Signature
from kiln.registry.signature import MISSING, NULL_TYPES, ModelInput, is_frame, is_null

# Problems listed in an error's details (the count says how many there were in all).
MAX_PROBLEMS = 50
_NUMBERS = frozenset({int, float, np.float64, np.float32, np.int64, np.int32, np.int16, np.int8})
_SCALARS = frozenset({str, int, float, bool, np.str_, np.bool_}) | _NUMBERS
# Cells a set lookup judges exactly: hashable, and not booleans (True == 1 to a set).
_PLAIN_KEYS = (_SCALARS | NULL_TYPES) - {bool, np.bool_}


@dataclass
class _Problems:
    n_rows: int
    items: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, name: str, row: int | None, message: str, **extra: Any) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            where = f" (row {row})" if row is not None and self.n_rows > 1 else ""
            self.items.append({"field": name, "row": row, "message": f"{name}: {message}{where}", **extra})

    def raise_if_any(self) -> None:
        if not self.count:
            return
        shown = "; ".join(item["message"] for item in self.items[:3])
        more = self.count - min(3, len(self.items))
        message = shown + (f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else "")
        raise ValidationFailed(message, details={"problems": self.items, "problem_count": self.count})


class RecordValidator:
    """A signature compiled once (expectations, allowed sets), then applied to every request."""

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self.fields = tuple(signature.inputs)
        self._names = [spec.name for spec in self.fields]
        self._known = frozenset(self._names)
        self._checks = [_FieldCheck(spec) for spec in self.fields]

    def validate(self, data: Any) -> ModelInput:
        n_rows, columns, unknown, problems = self._columns(data)
        for name, row in unknown:
            problems.add(name, row, self._unknown_message(name))
        out: list[np.ndarray] = []
        for check in self._checks:
            out.append(check.apply(columns.get(check.spec.name, MISSING), n_rows, problems))
        problems.raise_if_any()
        return ModelInput(fields=self.fields, columns=tuple(out), n_rows=n_rows)

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listed = ", ".join(self._names[:10]) + (", ..." if len(self._names) > 10 else "")
        return f"unknown field; {hint}the model takes: {listed}"

    def _columns(self, data: Any) -> tuple[int, dict[str, Any], list[tuple[str, int | None]], _Problems]:
        """The request as name → column; unknown fields with the first row they appear in."""
        if is_frame(data):
            names = [str(name) for name in data.columns]
            columns = {str(name): data[name] for name in data.columns}
            return len(data), columns, self._unknown_of(names, None), _Problems(len(data))
        if isinstance(data, Mapping):
            values = list(data.values())
            if values and all(_is_column(value) for value in values):
                lengths = {len(v) for v in values}
                if len(lengths) != 1:
                    raise ValidationFailed(f"columns have different lengths: {sorted(lengths)}")
                n = lengths.pop()
                columns = {str(name): column for name, column in data.items()}
                return n, columns, self._unknown_of(columns, None), _Problems(n)
            data = [data]  # one record
        if isinstance(data, np.ndarray) or (isinstance(data, list) and data and isinstance(data[0], list)):
            return self._positional(data)
        if not isinstance(data, list | tuple):
            raise ValidationFailed(
                f"expected a list of records, a dict of columns or a DataFrame, got {type(data).__name__}"
            )
        if not data:
            raise ValidationFailed("no records to predict on: send at least one")
        if set(map(type, data)) != {dict}:
            for row, record in enumerate(data):
                if not isinstance(record, Mapping):
                    raise ValidationFailed(
                        f"row {row}: expected a record (an object of field: value), "
                        f"got {type(record).__name__}",
                        details={"problems": [{"field": None, "row": row, "message": "not a record"}]},
                    )
        # Whole-request passes in C (key union, lengths, itemgetter) for the common, clean request;
        # row by row only to say where an unknown field first appears.
        unknown = set().union(*data) - self._known
        first_rows: list[tuple[str, int | None]] = [
            (str(name), _first_row(data, name)) for name in sorted(unknown, key=str)
        ]
        if not unknown and self._names and set(map(len, data)) == {len(self._names)}:
            rows = list(map(operator.itemgetter(*self._names), data))
            if len(self._names) == 1:
                return len(data), {self._names[0]: rows}, [], _Problems(len(data))
            columns = dict(zip(self._names, map(list, zip(*rows, strict=True)), strict=True))
            return len(data), columns, [], _Problems(len(data))
        getters = {name: operator.methodcaller("get", name, MISSING) for name in self._names}
        columns = {name: list(map(getter, data)) for name, getter in getters.items()}
        return len(data), columns, first_rows, _Problems(len(data))

    def _unknown_of(self, names: Iterable[str], row: int | None) -> list[tuple[str, int | None]]:
        return [(name, row) for name in names if name not in self._known]

    def _positional(self, data: Any) -> tuple[int, dict[str, Any], list[tuple[str, int | None]], _Problems]:
        """Rows of values in the signature's order (a bare array, for ``tensor`` models)."""
        array = np.asarray(data, dtype=object) if isinstance(data, list) else np.asarray(data)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != len(self._names):
            raise ValidationFailed(
                f"expected rows of {len(self._names)} values ({', '.join(self._names[:10])}), "
                f"got shape {list(array.shape)}"
            )
        columns = {name: array[:, index] for index, name in enumerate(self._names)}
        return array.shape[0], columns, [], _Problems(array.shape[0])


def validate_records(signature: Signature, records: Any) -> ModelInput:
    """Check a request against ``signature``; answer its typed columns or raise ``ValidationFailed``.

    ``records``: a list of dicts, one dict (one record), a dict of columns, a DataFrame, or rows of
    values in the signature's order. Optional fields left out (or null) take their default.
    """
    return RecordValidator(signature).validate(records)


class _FieldCheck:
    """One field's rule: its type, bounds and allowed values, and how to say what it expects."""

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self.allowed = frozenset(spec.allowed) if spec.allowed else None
        # Python says True == 1: without booleans among the allowed values, a set lookup is exact enough.
        self._plain_membership = self.allowed is not None and not any(
            isinstance(v, bool) for v in self.allowed
        )
        self.expected = _expectation(spec)
        self.numeric = spec.type in (FieldType.number, FieldType.integer)
        self.accepted = {
            FieldType.boolean: frozenset({bool, np.bool_}),
            FieldType.category: _SCALARS,
        }.get(spec.type, frozenset({str, np.str_}))

    def apply(self, raw: Any, n_rows: int, problems: _Problems) -> np.ndarray:
        spec = self.spec
        if raw is MISSING:  # the field is absent from the whole request
            if spec.required:
                problems.add(spec.name, None, f"missing; this field is required (expected {self.expected})")
            blank = np.full(n_rows, np.nan) if self.numeric else np.full(n_rows, None, dtype=object)
            return self._fill(blank, np.ones(n_rows, dtype=bool))
        if hasattr(raw, "to_numpy"):  # a pandas Series
            raw = raw.to_numpy()
        if isinstance(raw, np.ndarray) and raw.dtype.kind != "O":
            cells: Any = raw
            typed, wrong, null = self._typed_array(raw)
        else:
            cells = (
                raw if isinstance(raw, list) else (raw.tolist() if isinstance(raw, np.ndarray) else list(raw))
            )
            typed, wrong, null = self._typed_cells(cells)
        bad = wrong | self._out_of_bounds(typed, null)
        if bad.any():
            for row in np.flatnonzero(bad)[:MAX_PROBLEMS].tolist():
                got = _shown(cells[row])
                problems.add(
                    spec.name, row, f"expected {self.expected}, got {got}", expected=self.expected, got=got
                )
        if not null.any():
            return typed
        if spec.required:
            for row in np.flatnonzero(null)[:MAX_PROBLEMS].tolist():
                said = "missing; this field is" if cells[row] is MISSING else "null, but this field is"
                problems.add(spec.name, row, f"{said} required (expected {self.expected})")
        return self._fill(typed, null)

    def _typed_array(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A typed numpy column (a DataFrame's, an array's): its kind says it all, no cell is looked at."""
        kind = values.dtype.kind
        none = np.zeros(values.shape, dtype=bool)
        nan = np.isnan(values) if kind == "f" else none
        if self.numeric:
            if kind in "iuf":
                return values, np.isinf(values) if kind == "f" else none, nan
            return np.full(values.shape, np.nan), ~none, none  # bools, strings, dates are not numbers
        if self.spec.type is FieldType.boolean:
            return (values, none, none) if kind == "b" else (values.astype(object), ~none, none)
        if kind in "US" or (self.spec.type is FieldType.category and kind in "iufb"):
            return values.astype(object), none, nan
        return values.astype(object), ~none, none

    def _typed_cells(self, cells: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A column of Python values (records, JSON): one pass for the set of types, then numpy."""
        n = len(cells)
        types = set(map(type, cells))
        none = np.zeros(n, dtype=bool)
        if self.numeric:
            if types <= _NUMBERS:
                try:
                    floats = np.array(cells, dtype=np.float64)
                except OverflowError:  # an integer past the largest double: the cell-by-cell pass names it
                    pass
                else:
                    return floats, np.isinf(floats), np.isnan(floats)
            null = np.fromiter(map(is_null, cells), bool, n)
            floats = np.fromiter(map(_finite_float, cells), np.float64, n)
            return floats, np.isnan(floats) & ~null, null
        accepted = self.accepted
        if types <= accepted:
            typed = _object_array(cells) if self.spec.type is not FieldType.boolean else np.array(cells, bool)
            null = np.fromiter(map(is_null, cells), bool, n) if float in types else none
            return typed, none, null
        null = np.fromiter(map(is_null, cells), bool, n)
        wrong = np.fromiter((type(v) not in accepted for v in cells), bool, n) & ~null
        return _object_array(cells), wrong, null

    def _out_of_bounds(self, typed: np.ndarray, null: np.ndarray) -> np.ndarray:
        # Comparisons with NaN are quietly False in numpy: no errstate needed (it costs more than the test).
        spec = self.spec
        bad = np.zeros(typed.shape, dtype=bool)
        if typed.dtype.kind in "iuf":
            if spec.type is FieldType.integer and typed.dtype.kind == "f":
                bad |= (np.floor(typed) != typed) & ~null
            if spec.minimum is not None:
                bad |= typed < spec.minimum
            if spec.maximum is not None:
                bad |= typed > spec.maximum
        if self.allowed is not None:
            cells = typed.tolist()
            if self._plain_membership and set(map(type, cells)) <= _PLAIN_KEYS:
                member = np.fromiter(map(self.allowed.__contains__, cells), bool, len(cells))
            else:
                member = np.fromiter((_member(v, self.allowed) for v in cells), bool, len(cells))
            bad |= ~member & ~null
        return bad

    def _fill(self, typed: np.ndarray, null: np.ndarray) -> np.ndarray:
        """Nulls and left-out cells take the field's default (NaN or None when it has none)."""
        default = self.spec.default
        numeric = self.spec.type in (FieldType.number, FieldType.integer)
        if numeric:
            filled = typed.astype(np.float64) if typed.dtype.kind != "f" else typed.copy()
            filled[null] = np.nan if default is None else float(default)
            if self.spec.type is FieldType.integer and not np.isnan(filled).any():
                return filled.astype(np.int64)
            return filled
        filled = typed.astype(object)
        filled[null] = default
        return filled


def _first_row(records: Sequence[Mapping[Any, Any]], name: Any) -> int:
    return next(row for row, record in enumerate(records) if name in record)


def _object_array(cells: Sequence[Any]) -> np.ndarray:
    # Assigned, not np.array(cells): equal-length lists inside cells must not become a 2-D array.
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    return array


def _is_column(value: Any) -> bool:
    return (isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes)) or hasattr(
        value, "to_numpy"
    )


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBERS or (
        isinstance(value, int | float | np.number) and not isinstance(value, bool)
    )


def _finite_float(value: Any) -> float:
    """The cell as a float; NaN when it is no finite number (text, a bool, infinity, an integer past
    the largest double), which the caller tells from a null."""
    if not _is_number(value):
        return np.nan
    try:
        number = float(value)
    except OverflowError:
        return np.nan
    return number if math.isfinite(number) else np.nan


def _member(value: Any, allowed: frozenset[Any]) -> bool:
    if isinstance(value, bool | np.bool_):  # True == 1 in Python: a boolean matches only a boolean
        return any(isinstance(option, bool) and option == value for option in allowed)
    try:
        return value in allowed
    except TypeError:  # an unhashable cell (a list): not an allowed value
        return False


def _expectation(spec: FieldSpec) -> str:
    if spec.type is FieldType.category or spec.allowed:
        shown = ", ".join(repr(value) for value in (spec.allowed or [])[:10])
        return f"one of {shown}" + (", ..." if len(spec.allowed or []) > 10 else "")
    if spec.type is FieldType.boolean:
        return "true or false"
    if spec.type is FieldType.string:
        return "a string"
    noun = "an integer" if spec.type is FieldType.integer else "a number"
    low, high = _number(spec.minimum), _number(spec.maximum)
    if low is not None and high is not None:
        return f"{noun} between {low} and {high}"
    if low is not None:
        return f"{noun} of at least {low}"
    if high is not None:
        return f"{noun} of at most {high}"
    return noun


def _number(value: float | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(value)


def _shown(value: Any) -> str:
    """A cell as the caller wrote it, in JSON's words where they differ (null, true, false)."""
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 60 else text[:57] + "..."
