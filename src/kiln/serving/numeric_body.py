"""A predict body of plain numbers read straight into the model's float matrix, for a numeric model.

Most prediction requests are records (or columns) whose every field is a number, for models whose
every input is a number. Parsing such a body into dicts (orjson: 1,000 dicts of 30 floats) and then
taking the numbers back out of them was most of a 1,000-row request. Here msgspec decodes the body
against a type made from the signature: ``{"inputs": [{field: number, ...}, ...]}`` or ``{"columns":
{field: [numbers], ...}}``, each field required, no other key, no null, bool or text, so the
decoder itself checks the types and the fields, in C, without building a dict. The numbers become
one float matrix, whose bounds and integrality ``NumericRecords.checked`` tests per column.

Only the clean request is answered here. Anything else (a field missing or unknown, a null, a
string, a value out of range, a NaN literal, a malformed body) returns None, and the request takes
the general path (``parse_payload`` and the signature's column-by-column check), which words the
problem exactly as before. So this changes how fast a good request is answered, never what any
request is answered.

The prediction log stores the request's own JSON text of its inputs (``read_numeric_logged``). The
decoder has proved the body is ``{"inputs": [records]}`` (or ``{"columns": {...}}``) with every
record holding each field (numbers only), so one more thing makes the text after the key certainly
that one value: the key is not there twice (a duplicate key's value would be in the slice, and the
decoder keeps the last). With no backslash in the body (no escaped quote, no key spelled with
escapes), every quote belongs to a key, so the quotes number exactly ``2 + 2 * fields * rows``
(``2 + 2 * fields`` for columns) when no key is repeated anywhere; counting one byte with numpy is
a tenth of searching the body for the key's text.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any
from weakref import WeakKeyDictionary

import msgspec
import numpy as np

from kiln.registry.loaded_model import LoadedModel
from kiln.registry.numeric_records import NumericRecords
from kiln.registry.signature import ModelInput
from kiln.serving.prediction_record import JsonText

_OPENING = re.compile(rb'\A\s*\{\s*"(inputs|columns)"\s*:')
_QUOTE = ord('"')


class NumericBody:
    """The decoders of one numeric signature (``for_model`` says whether one applies)."""

    def __init__(self, numeric: NumericRecords) -> None:
        self._numeric = numeric
        # Struct attributes must be identifiers; the wire names (any text) are their JSON names.
        attributes = [f"f{index}" for index in range(len(numeric.fields))]
        names = dict(zip(attributes, (spec.name for spec in numeric.fields), strict=True))
        row = msgspec.defstruct(
            "Record", [(a, float) for a in attributes], rename=names, forbid_unknown_fields=True, gc=False
        )
        columns = msgspec.defstruct(
            "Columns", [(a, list[float]) for a in attributes], rename=names, forbid_unknown_fields=True
        )
        records: Any = list[row]  # type: ignore[valid-type]
        records_body = msgspec.defstruct("RecordsBody", [("inputs", records)], forbid_unknown_fields=True)
        columns_body = msgspec.defstruct("ColumnsBody", [("columns", columns)], forbid_unknown_fields=True)
        self._records: msgspec.json.Decoder[Any] = msgspec.json.Decoder(records_body)
        self._columns: msgspec.json.Decoder[Any] = msgspec.json.Decoder(columns_body)
        self._width = len(attributes)

    def read(self, body: bytes) -> tuple[ModelInput, JsonText | None] | None:
        """The body as the model's checked input and its inputs' JSON text (None when it cannot be
        sliced out safely), or None: the general path decides."""
        opening = _OPENING.match(body)
        if opening is None:
            return None  # not an object whose first key is "inputs" or "columns": not ours to read
        if opening.group(1) == b"columns":
            checked, quotes = self._read_columns(body), 2 + 2 * self._width
        else:
            checked = self._read_records(body)
            quotes = 2 + 2 * self._width * (checked.n_rows if checked is not None else 0)
        if checked is None:
            return None
        return checked, _value_text(body, opening, quotes)

    def _read_records(self, body: bytes) -> ModelInput | None:
        try:
            records = self._records.decode(body).inputs
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if not records:
            return None
        flat = chain.from_iterable(map(msgspec.structs.astuple, records))
        matrix = np.fromiter(flat, np.float64, count=len(records) * self._width)
        return self._numeric.checked(matrix.reshape(len(records), self._width))

    def _read_columns(self, body: bytes) -> ModelInput | None:
        try:
            columns = msgspec.structs.astuple(self._columns.decode(body).columns)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        lengths = set(map(len, columns))
        rows = lengths.pop() if len(lengths) == 1 else 0
        if not rows:
            return None  # different lengths, or no rows: the general path says so
        # Each column written straight into its place in the one row-major block (no transposed copy).
        matrix = np.empty((rows, self._width), dtype=np.float64)
        for index, column in enumerate(columns):
            matrix[:, index] = column
        return self._numeric.checked(matrix)


def _value_text(body: bytes, opening: re.Match[bytes], quotes: int) -> JsonText | None:
    """The JSON text of the one top-level value of a body the decoder accepted, or None when a key
    may be repeated (see the module's docstring)."""
    if b"\\" in body or np.count_nonzero(np.frombuffer(body, np.uint8) == _QUOTE) != quotes:
        return None
    # One copy, into the text: the body itself is not sliced into a second bytes object first.
    view = memoryview(body)[opening.end() : body.rindex(b"}")]
    return JsonText(str(view, "utf-8").strip())


_BODIES: WeakKeyDictionary[LoadedModel, NumericBody | None] = WeakKeyDictionary()


def numeric_body(model: LoadedModel) -> NumericBody | None:
    """The model's numeric decoders, made on its first request (None: not an all-number signature)."""
    try:
        return _BODIES[model]
    except KeyError:
        numeric = NumericRecords.of(model.signature)
        body = _BODIES[model] = NumericBody(numeric) if numeric is not None else None
        return body


def read_numeric_logged(model: LoadedModel, body: bytes) -> tuple[ModelInput, JsonText | None] | None:
    """``body`` as ``model``'s checked input, with its inputs' own JSON text for the prediction log
    (None: log them from the input), when it is a clean all-number request; else None."""
    reader = numeric_body(model)
    return reader.read(body) if reader is not None else None


def read_numeric(model: LoadedModel, body: bytes) -> ModelInput | None:
    """``body`` as ``model``'s checked input when it is a clean all-number request, else None."""
    read = read_numeric_logged(model, body)
    return read[0] if read is not None else None
