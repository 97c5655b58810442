"""What ``predict`` accepts, turned into the body the predict route reads.

Records (a list of dicts, or one dict of scalars) are sent as ``{"inputs": [...]}``; a dict of
equal-length lists and a pandas DataFrame as ``{"columns": {...}}`` (smaller, and a frame's natural
shape). pandas is never imported here: a frame is recognised by what it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ROWS_HELP = "rows: give a list of records (dicts), a dict of columns (lists), or a pandas DataFrame"


def _is_frame(rows: Any) -> bool:
    return hasattr(rows, "columns") and hasattr(rows, "notna") and hasattr(rows, "astype")


def _frame_columns(frame: Any) -> dict[str, list[Any]]:
    columns = {}
    for name in frame.columns:
        column = frame[name]
        # A missing cell (NaN, None, NaT) is sent as null, which the signature reads as "not given".
        columns[str(name)] = column.astype(object).where(column.notna(), None).tolist()
    return columns


def predict_body(rows: Any) -> dict[str, Any]:
    """``{"inputs": records}`` or ``{"columns": {...}}`` for ``rows``; TypeError for anything else."""
    if _is_frame(rows):
        if len(rows) == 0:
            raise ValueError("rows: the DataFrame has no rows")
        return {"columns": _frame_columns(rows)}
    if isinstance(rows, Mapping):
        values = list(rows.values())
        if values and all(isinstance(value, list | tuple) for value in values):
            return {"columns": {str(key): list(value) for key, value in rows.items()}}
        return {"inputs": [dict(rows)]}
    if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
        records = list(rows)
        if not records:
            raise ValueError("rows: nothing to predict (the list is empty)")
        stray = next((record for record in records if not isinstance(record, Mapping)), None)
        if stray is not None:
            raise TypeError(f"{ROWS_HELP}; this list holds a {type(stray).__name__}")
        return {"inputs": [dict(record) for record in records]}
    raise TypeError(f"{ROWS_HELP}, not a {type(rows).__name__}")
