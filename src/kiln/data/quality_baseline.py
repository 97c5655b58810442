"""The summary of a batch that later batches are compared with, and the shift measures against it.

Numbers keep decile bin edges with their counts (for the population stability index) and a quantile
sketch of at most 1,000 points (for a two-sample Kolmogorov-Smirnov test); categories keep their
counts. A baseline is a few kilobytes per column whatever the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kiln.data.quality_schemas import NumericSummary, QualityBaseline
from kiln.data.spec import NUMERIC_TYPES, ColumnType, DatasetSchema

SKETCH_POINTS = 1_000
_DECILES = np.linspace(0.1, 0.9, 9)
# Smoothing of empty bins: PSI is infinite for a bin seen on one side only.
_EPSILON = 1e-4
_CATEGORY_TYPES = frozenset({ColumnType.category, ColumnType.boolean})


@dataclass(frozen=True)
class Shift:
    psi: float
    p_value: float
    statistic: float  # KS D for numbers, chi-squared for categories


def summarize(
    frame: pd.DataFrame,
    accepted: pd.DataFrame,
    schema: DatasetSchema,
    *,
    previous: QualityBaseline | None,
    history: int,
) -> QualityBaseline:
    """Null rates of the whole batch as it came; distributions of its accepted, typed rows."""
    rows = len(frame)
    null_rates = {
        column.name: float(frame[column.name].isna().mean()) if rows else 0.0 for column in schema.columns
    }
    counts = ([*previous.row_counts, rows] if previous else [rows])[-history:]
    numeric, categories = {}, {}
    for column in schema.columns:
        if column.type in NUMERIC_TYPES:
            numeric[column.name] = summarize_numbers(numeric_values(accepted[column.name]))
        elif column.type in _CATEGORY_TYPES:
            categories[column.name] = category_counts(accepted[column.name])
    return QualityBaseline(
        rows=rows, row_counts=counts, null_rates=null_rates, numeric=numeric, categories=categories
    )


def numeric_values(column: pd.Series) -> np.ndarray:
    values: np.ndarray = column.dropna().to_numpy(dtype="float64")
    return values


def category_counts(column: pd.Series) -> dict[str, int]:
    counted = column.dropna().astype("str").value_counts()
    return {str(name): int(count) for name, count in counted.items()}


def summarize_numbers(values: np.ndarray) -> NumericSummary:
    if len(values) == 0:
        return NumericSummary(count=0, edges=[], counts=[], sketch=[])
    edges = np.unique(np.quantile(values, _DECILES))
    return NumericSummary(
        count=len(values),
        mean=float(values.mean()),
        edges=edges.tolist(),
        counts=_binned(values, edges).tolist(),
        sketch=_sketch(values).tolist(),
    )


def _binned(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts: np.ndarray = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return counts


def _sketch(values: np.ndarray) -> np.ndarray:
    if len(values) <= SKETCH_POINTS:
        return np.sort(values)
    # Observed values, not interpolations: an integer column's sketch holds integers.
    sketch: np.ndarray = np.quantile(values, np.linspace(0, 1, SKETCH_POINTS), method="inverted_cdf")
    return sketch


def numeric_shift(before: NumericSummary, values: np.ndarray) -> Shift | None:
    """How far ``values`` moved from ``before``; None when either side is empty."""
    if before.count == 0 or len(values) == 0:
        return None
    edges = np.asarray(before.edges, dtype="float64")
    psi = _psi(np.asarray(before.counts, dtype="float64"), _binned(values, edges).astype("float64"))
    # The current side is sketched too, so the p-value reflects at most ~1,000 points a side: with
    # millions, every trivial difference would be "significant" (the effect size decides there).
    test = stats.ks_2samp(np.asarray(before.sketch), _sketch(values), method="asymp")
    return Shift(psi=psi, p_value=float(test.pvalue), statistic=float(test.statistic))


def category_shift(before: dict[str, int], after: dict[str, int]) -> Shift | None:
    names = sorted(set(before) | set(after))
    if not before or not after or len(names) < 2:
        return None
    table = np.array([[before.get(name, 0) for name in names], [after.get(name, 0) for name in names]])
    test = stats.chi2_contingency(table)
    return Shift(
        psi=_psi(table[0].astype("float64"), table[1].astype("float64")),
        p_value=float(test.pvalue),
        statistic=float(test.statistic),
    )


def _psi(before: np.ndarray, after: np.ndarray) -> float:
    expected = np.maximum(before / before.sum(), _EPSILON)
    actual = np.maximum(after / after.sum(), _EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
