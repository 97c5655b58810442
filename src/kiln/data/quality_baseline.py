"""The summary of a batch that later batches are compared with, and the shift measures against it.

Numbers keep decile bin edges with their counts (for the population stability index) and a quantile
sketch of at most 1,000 points (for a two-sample Kolmogorov-Smirnov test); categories keep their
counts. A baseline is a few kilobytes per column whatever the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas and scipy cost seconds at import: serving and drift import this module too
    import pandas as pd

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
    ordered = np.sort(values)  # once: edges, counts and sketch all read the sorted values
    edges = np.unique(_quantiles(ordered, _DECILES))
    sketch = (
        ordered if len(ordered) <= SKETCH_POINTS else _quantiles(ordered, np.linspace(0, 1, SKETCH_POINTS))
    )
    return NumericSummary(
        count=len(values),
        mean=float(values.mean()),
        edges=edges.tolist(),
        counts=binned(ordered, edges).tolist(),
        sketch=sketch.tolist(),
    )


def _quantiles(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Observed values, not interpolations (numpy's inverted CDF): an integer column's are integers."""
    positions = np.clip(np.ceil(levels * len(ordered)).astype("int64") - 1, 0, len(ordered) - 1)
    picked: np.ndarray = ordered[positions]
    return picked


def binned(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in (-inf, e0], (e0, e1], ..., (en, inf) of sorted values."""
    at_most = np.searchsorted(ordered, edges, side="right")
    counts: np.ndarray = np.diff(at_most, prepend=0, append=len(ordered))
    return counts


def numeric_shift(before: NumericSummary, after: NumericSummary) -> Shift | None:
    """How far ``after`` moved from ``before``, from their summaries; None when either is empty.

    The current side's bins are counted on its sketch (evenly spaced quantiles stand for equal shares
    of the rows), and KS compares the two sketches, so the p-value reflects at most ~1,000 points a
    side: with millions, every trivial difference would be "significant" (the effect size decides).
    """
    if before.count == 0 or after.count == 0:
        return None
    edges = np.asarray(before.edges, dtype="float64")
    sketch = np.asarray(after.sketch, dtype="float64")
    stability = psi(np.asarray(before.counts, dtype="float64"), binned(sketch, edges).astype("float64"))
    from scipy import stats

    test = stats.ks_2samp(np.asarray(before.sketch), sketch, method="asymp")
    return Shift(psi=stability, p_value=float(test.pvalue), statistic=float(test.statistic))


def category_shift(before: dict[str, int], after: dict[str, int]) -> Shift | None:
    names = sorted(set(before) | set(after))
    if not before or not after or len(names) < 2:
        return None
    table = np.array([[before.get(name, 0) for name in names], [after.get(name, 0) for name in names]])
    from scipy import stats

    test = stats.chi2_contingency(table)
    return Shift(
        psi=psi(table[0].astype("float64"), table[1].astype("float64")),
        p_value=float(test.pvalue),
        statistic=float(test.statistic),
    )


def psi(before: np.ndarray, after: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins (empty bins smoothed)."""
    expected = np.maximum(before / before.sum(), _EPSILON)
    actual = np.maximum(after / after.sum(), _EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
