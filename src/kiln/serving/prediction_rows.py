"""How the prediction log turns queued records into rows of the predictions table, and writes them.

Rows are plain tuples in ``COLUMNS`` order, for ``kiln.core.db.insert_rows``, made when a record is
appended (``PredictionRows.row``). JSON columns are serialised once, by the flusher (``finished``:
orjson; ``JsonText``, the request's own text of its inputs or the answer's of its outputs, is not
serialised at all), and no ORM object is built.

They are written several to an INSERT statement (``statements``; why, at ``kiln.core.db.insert_rows``):
at most 128 rows and about 1 MiB of their text, because the driver copies every bound value and 128
logged 1,000-row batches in one statement would briefly cost 100 MB.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from kiln.core.db import ROWS_PER_STATEMENT, insert_rows
from kiln.serving.models import CALLER_LENGTH, NAME_LENGTH, Prediction
from kiln.serving.prediction_record import JsonText, PredictionRecord

COLUMNS = (
    "request_id",
    "deployment",
    "deployment_id",
    "project_id",
    "model_name",
    "model_version_id",
    "model_version_number",
    "inputs",
    "outputs",
    "latency_ms",
    "status",
    "error",
    "caller",
    "caller_user_id",
    "created_at",
)
_INPUTS, _OUTPUTS = COLUMNS.index("inputs"), COLUMNS.index("outputs")
# Besides ``insert_rows``'s bound on rows, a statement's text is bounded too.
TEXT_PER_STATEMENT = 2**20


class PredictionRows:
    """Rows for one database's predictions table.

    A row is made when its record is appended (``row``: a tuple, with the time already in the
    column's form), so the flusher, a thread that shares the GIL with the serving loop, runs next to
    no Python of its own per record. JSON columns that are not text yet (Python rows from the
    general path, a model's numpy outputs) are serialised by the flusher (``finished``).
    """

    def __init__(self, dialect: Dialect) -> None:
        # The column type's own bind processing (UTC, and SQLite's text format), found once:
        # ``insert_rows`` hands the driver the values as they are, past SQLAlchemy's processing.
        column_type = Prediction.__table__.c.created_at.type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        self._time_to_db: Any = processor or (lambda value: value)

    def row(self, record: PredictionRecord, appended: float) -> tuple[Any, ...]:
        """``record`` as a row; ``appended`` (a Unix time) is its time unless it has its own."""
        created = record.created_at or datetime.fromtimestamp(appended, UTC)
        return (
            record.request_id,
            record.deployment[:NAME_LENGTH],
            record.deployment_id,
            record.project_id,
            record.model_name[:NAME_LENGTH],
            record.model_version_id,
            record.model_version_number,
            record.inputs,
            record.outputs,
            float(record.latency_ms),
            record.status,
            record.error,
            record.caller[:CALLER_LENGTH],
            record.caller_user_id,
            self._time_to_db(created),
        )


def finished(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows`` with every JSON column as JSON text (new tuples where one was not; others as they are)."""
    return [row if _is_text(row[_INPUTS]) and _is_text(row[_OUTPUTS]) else _serialised(row) for row in rows]


def row_text_bytes(row: tuple[Any, ...]) -> int:
    """About what a queued row holds: its inputs' and outputs' text, or a flat guess for Python rows."""
    inputs, outputs = row[_INPUTS], row[_OUTPUTS]
    return (len(inputs) if isinstance(inputs, str | bytes) else _ROWS_BYTES) + (
        len(outputs) if isinstance(outputs, str | bytes) else _ROWS_BYTES
    )


# What a JSON column that is not text yet (Python rows from the general path) is counted as.
_ROWS_BYTES = 1024


def _is_text(value: Any) -> bool:
    return value is None or type(value) is JsonText


def _serialised(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row[:_INPUTS], _json(row[_INPUTS]), _json(row[_OUTPUTS]), *row[_OUTPUTS + 1 :])


def insert_predictions(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Write ``rows`` (``finished``) in the session's transaction, statement by statement."""
    table = Prediction.__table__
    for group in statements(rows):
        insert_rows(session, table, COLUMNS, group, rows_per_statement=len(group))


def statements(rows: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    """``rows`` in order, in groups of at most ``ROWS_PER_STATEMENT`` rows and, unless one row is
    larger alone, ``TEXT_PER_STATEMENT`` characters of inputs and outputs."""
    group: list[tuple[Any, ...]] = []
    text = 0
    for row in rows:
        size = len(row[_INPUTS] or "") + len(row[_OUTPUTS] or "")
        if group and (len(group) == ROWS_PER_STATEMENT or text + size > TEXT_PER_STATEMENT):
            yield group
            group, text = [], 0
        group.append(row)
        text += size
    if group:
        yield group


def _json(value: Any) -> str | None:
    """``value`` as JSON text, once. Non-finite floats (NaN inputs are real) become "NaN" strings,
    as the API shows them; PostgreSQL's jsonb refuses bare NaN."""
    if value is None:
        return None
    if isinstance(value, JsonText):
        return value
    try:
        text = orjson.dumps(value, default=_plain, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:  # what orjson will not write (integers past 64 bits, keys that are not text)
        text = b"null"
    # orjson writes NaN and infinity as null: where a null appears, the strict encoder says which.
    if b"null" not in text:
        return text.decode()
    try:
        return _STRICT_JSON.encode(value)
    except ValueError:
        return _STRICT_JSON.encode(_finite(value))


def _plain(value: Any) -> Any:
    # numpy scalars and arrays (a model's outputs) and anything else: their plain Python form.
    for attribute in ("tolist", "item"):
        convert = getattr(value, attribute, None)
        if callable(convert):
            return convert()
    return str(value)


# Built once: json.dumps with options builds a new encoder on every call.
_STRICT_JSON = json.JSONEncoder(allow_nan=False, default=_plain, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    plain = _plain(value) if hasattr(value, "tolist") else value
    return value if plain is value else _finite(plain)
