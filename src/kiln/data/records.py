"""Rows as JSON records and back: how appended batches wait and quarantined rows are kept.

A record is a flat object of JSON cells (text, numbers, booleans, null); datetimes travel as ISO 8601
text and numbers keep their full precision, so the rules judge a staged row exactly as they would
have judged it on arrival.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.rules_errors import FrameRejected
from kiln.data.spec import DatasetSchema

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        # NaN is missing; an infinity is kept as text so the rules name it ("is not a finite number").
        return None if math.isnan(value) else str(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame``'s rows as JSON-ready records (column order kept)."""
    columns = [str(name) for name in frame.columns]
    return [
        dict(zip(columns, (_cell(value) for value in row), strict=True))
        for row in frame.itertuples(index=False, name=None)
    ]


def record_of(row: pd.Series) -> dict[str, Any]:
    return {str(name): _cell(value) for name, value in row.items()}


def check_records(records: Sequence[dict[str, Any]], schema: DatasetSchema) -> None:
    """``FrameRejected`` naming the record and column of the first undeclared column."""
    declared = {column.name for column in schema.columns}
    for number, record in enumerate(records):
        extra = [name for name in record if name not in declared]
        if extra:
            raise FrameRejected(
                f"record {number}: column `{extra[0]}` is not declared in the schema; "
                "declare it or leave it out (nothing was appended)",
                details={"column": extra[0], "row": number},
            )


def to_frame(records: Sequence[dict[str, Any]], schema: DatasetSchema) -> pd.DataFrame:
    """Records as a frame of the declared columns (a key a record leaves out is missing there); a
    column no record has stays absent, so ``split_rows`` names it."""
    present = {name for record in records for name in record}
    columns = [column.name for column in schema.columns if column.name in present]
    return pd.DataFrame.from_records(list(records), columns=columns)
