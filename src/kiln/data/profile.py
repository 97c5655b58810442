"""Per-column statistics of a version, computed once when it is made and kept on its row.

Every column: values present, nulls, distinct values. Numbers: min, max, mean, standard deviation
(sample, ddof=1) and the 5/25/50/75/95% quantiles. Text, categories and booleans: the most frequent
values. Datetimes: the earliest and latest, as ISO 8601.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kiln.core.lazy_module import lazy_module
from kiln.data.schemas import ColumnStatistics, ValueCount
from kiln.data.spec import NUMERIC_TYPES, ColumnType, DatasetSchema

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

TOP_VALUES = 10
QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
_COUNTED = frozenset({ColumnType.string, ColumnType.category, ColumnType.boolean})


def profile(frame: pd.DataFrame, schema: DatasetSchema) -> list[ColumnStatistics]:
    return [_column(frame[column.name], column.name, column.type) for column in schema.columns]


def _column(values: pd.Series, name: str, kind: ColumnType) -> ColumnStatistics:
    present = values.dropna()
    stats = ColumnStatistics(
        name=name,
        type=kind.value,
        count=len(present),
        nulls=len(values) - len(present),
        distinct=int(present.nunique()),
    )
    if present.empty:
        return stats
    if kind in NUMERIC_TYPES:
        numbers = present.astype("float64")
        quantiles = numbers.quantile(list(QUANTILES.values()))
        return stats.model_copy(
            update={
                "minimum": _finite(numbers.min()),
                "maximum": _finite(numbers.max()),
                "mean": _finite(numbers.mean()),
                "std": _finite(numbers.std()) if len(numbers) > 1 else None,
                "quantiles": {label: float(value) for label, value in zip(QUANTILES, quantiles, strict=True)},
            }
        )
    if kind is ColumnType.datetime:
        return stats.model_copy(
            update={"minimum": present.min().isoformat(), "maximum": present.max().isoformat()}
        )
    if kind in _COUNTED:
        counts = present.astype("str").value_counts().head(TOP_VALUES)
        top = [ValueCount(value=str(value), count=int(count)) for value, count in counts.items()]
        return stats.model_copy(update={"top": top})
    return stats


def _finite(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
