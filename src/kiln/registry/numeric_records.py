"""A request of plain numbers for a model that takes only numbers, checked in one pass.

Most prediction requests are records whose every field is a number, for models whose every input
is a number. ``RecordValidator`` checks them column by column (a handful of numpy calls per field:
about 5 µs a field on one row, most of the request's time on 30 fields). Here the whole request is
checked at once: every record has exactly the signature's fields, every cell is an ``int`` or a
``float`` (not a bool, not text, not null), the numbers become one float matrix in a C-level pass,
and each field's bounds (and integrality, for integer fields) are tested on its column.

The same matrix check (``checked``) serves two other shapes of clean input: a dict of numeric numpy
columns (``columns``: the Open Inference Protocol route's tensors), and the matrix that serving
decodes straight from an all-number body (``kiln.serving.numeric_body``).

Only the clean request is answered here. Anything else — a missing or unknown field, a null, a
string, a value out of range — returns None, and the column-by-column check runs as before and
names every problem. So the answers and the messages are those of ``RecordValidator``.
"""

from __future__ import annotations

import operator
from itertools import chain
from typing import Any

import numpy as np

from kiln.registry.model_format import FieldType, Signature
from kiln.registry.signature import ModelInput

_PLAIN_NUMBERS = frozenset({int, float})


class NumericRecords:
    """The one-pass check for a signature of number and integer fields (``of`` says if it applies)."""

    def __init__(self, signature: Signature) -> None:
        self.fields = tuple(signature.inputs)
        self._names = [spec.name for spec in self.fields]
        self._row = operator.itemgetter(*self._names)
        self._integer = np.array([spec.type is FieldType.integer for spec in self.fields])
        low = [-np.inf if spec.minimum is None else spec.minimum for spec in self.fields]
        high = [np.inf if spec.maximum is None else spec.maximum for spec in self.fields]
        self._low, self._high = np.array(low, dtype=float), np.array(high, dtype=float)
        self._bounded = bool(np.isfinite(self._low).any() or np.isfinite(self._high).any())

    @classmethod
    def of(cls, signature: Signature) -> NumericRecords | None:
        numeric = (FieldType.number, FieldType.integer)
        if len(signature.inputs) < 2 or any(
            spec.type not in numeric or spec.allowed for spec in signature.inputs
        ):
            return None  # one field: the column check is as quick; other types or allowed sets: it is needed
        return cls(signature)

    def validate(self, data: Any) -> ModelInput | None:
        """``data`` as the model's input when it is a list of clean numeric records (or a dict of
        numeric numpy columns), else None."""
        if type(data) is dict:
            if data and type(next(iter(data.values()))) is np.ndarray:
                return self.columns(data)
            data = [data]  # one record (a dict of columns has lists for values: refused below)
        if type(data) is not list or not data or set(map(type, data)) != {dict}:
            return None
        if set(map(len, data)) != {len(self._names)}:
            return None
        try:
            rows = list(map(self._row, data))
        except KeyError:  # a field missing, another in its place
            return None
        if not set(map(type, chain.from_iterable(rows))) <= _PLAIN_NUMBERS:
            return None
        try:
            matrix = np.array(rows, dtype=np.float64)
        except OverflowError:  # an integer past the largest double
            return None
        return self.checked(matrix)

    def columns(self, data: Any) -> ModelInput | None:
        """A dict of numeric numpy columns (the OIP route's tensors), when every column is a clean
        number column of one length with the signature's names; else None."""
        if type(data) is not dict or len(data) != len(self._names):
            return None
        try:
            arrays = self._row(data)
        except KeyError:
            return None
        if not all(type(a) is np.ndarray and a.ndim == 1 and a.dtype.kind in "fi" for a in arrays):
            return None
        if len({len(array) for array in arrays}) != 1 or not len(arrays[0]):
            return None
        # The columns stay as they came (their dtype, as the field-by-field check keeps it).
        return self.checked(np.stack(arrays, axis=1).astype(np.float64, copy=False), arrays)

    def checked(self, matrix: np.ndarray, columns: tuple[np.ndarray, ...] | None = None) -> ModelInput | None:
        """A float64 matrix (rows by the signature's fields, in order) as the model's input when every
        cell is finite, within its field's bounds and whole where the field is an integer; else None.
        ``columns``: the same numbers as columns of their own (by default, views of the matrix)."""
        if not np.isfinite(matrix).all():
            return None  # NaN or infinity from a lenient body: the column check decides
        if self._bounded and ((matrix < self._low).any() or (matrix > self._high).any()):
            return None
        if self._integer.any():
            whole = matrix[:, self._integer]
            if (np.floor(whole) != whole).any():
                return None
        if columns is None:
            columns = tuple(matrix[:, index] for index in range(len(self._names)))
        return ModelInput(fields=self.fields, columns=columns, n_rows=len(matrix), dense=matrix)
