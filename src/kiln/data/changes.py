"""What changed between two versions of a dataset: rows, columns and numeric distributions.

Rows are matched by the schema's key when both versions have the same key (a row whose key is new
was added, one whose key is gone was removed), otherwise as whole rows over the columns both have
(a multiset difference of row hashes, so a duplicated row counts twice). Distribution shifts compare
means and standard deviations from the statistics, and run a two-sample Kolmogorov-Smirnov test on
the quality baselines' quantile sketches (at most 1,000 points a side: cheap whatever the size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.quality_baseline import numeric_shift
from kiln.data.quality_schemas import QualityBaseline
from kiln.data.schemas import ChangeSummary, ColumnRetyped, ColumnStatistics, DistributionShift
from kiln.data.spec import NUMERIC_TYPES, DatasetSchema

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


@dataclass(frozen=True)
class VersionSide:
    """One side of a comparison: a version's rows (or only its key columns), schema and summaries."""

    number: int
    frame: pd.DataFrame
    schema: DatasetSchema
    statistics: list[ColumnStatistics]
    baseline: QualityBaseline | None


def columns_to_read(before: DatasetSchema, after: DatasetSchema) -> list[str] | None:
    """The columns of the earlier version the comparison needs (None: all of them)."""
    return list(after.key) if after.key and before.key == after.key else None


def summarize_changes(before: VersionSide, after: VersionSide) -> ChangeSummary:
    old_types = {column.name: column.type for column in before.schema.columns}
    new_types = {column.name: column.type for column in after.schema.columns}
    retyped = [
        ColumnRetyped(name=name, before=old_types[name].value, after=kind.value)
        for name, kind in new_types.items()
        if name in old_types and old_types[name] != kind
    ]
    shared = [name for name, kind in new_types.items() if old_types.get(name) == kind]
    by_key = bool(after.schema.key) and before.schema.key == after.schema.key
    added, removed = _row_changes(before.frame, after.frame, after.schema.key if by_key else shared)
    return ChangeSummary(
        from_number=before.number,
        to_number=after.number,
        rows_before=_rows(before),
        rows_after=len(after.frame),
        rows_added=added,
        rows_removed=removed,
        matched_by="key" if by_key else "row",
        columns_added=[name for name in new_types if name not in old_types],
        columns_removed=[name for name in old_types if name not in new_types],
        columns_retyped=retyped,
        shifts=_shifts(before, after, [n for n in shared if new_types[n] in NUMERIC_TYPES]),
    )


def _rows(side: VersionSide) -> int:
    counted = next((column.count + column.nulls for column in side.statistics), None)
    return len(side.frame) if counted is None else counted


def _row_changes(before: pd.DataFrame, after: pd.DataFrame, columns: list[str]) -> tuple[int, int]:
    if not columns:  # nothing in common: every row is new
        return len(after), len(before)
    old = _hash_counts(before[columns])
    new = _hash_counts(after[columns])
    joined = pd.concat([old.rename("old"), new.rename("new")], axis=1).fillna(0)
    difference = joined["new"] - joined["old"]
    return int(difference.clip(lower=0).sum()), int((-difference).clip(lower=0).sum())


def _hash_counts(frame: pd.DataFrame) -> pd.Series:
    hashes = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
    counts: pd.Series = pd.Series(np.asarray(hashes)).value_counts()
    return counts


def _shifts(before: VersionSide, after: VersionSide, columns: list[str]) -> list[DistributionShift]:
    old = {stats.name: stats for stats in before.statistics}
    new = {stats.name: stats for stats in after.statistics}
    found = []
    for name in columns:
        if name not in old or name not in new:
            continue
        ks, p_value = None, None
        if before.baseline and after.baseline:
            sketches = before.baseline.numeric.get(name), after.baseline.numeric.get(name)
            if sketches[0] is not None and sketches[1] is not None:
                shift = numeric_shift(sketches[0], sketches[1])
                if shift is not None:
                    ks, p_value = shift.statistic, shift.p_value
        found.append(
            DistributionShift(
                column=name,
                mean_before=old[name].mean,
                mean_after=new[name].mean,
                std_before=old[name].std,
                std_after=new[name].std,
                ks_statistic=ks,
                p_value=p_value,
            )
        )
    return found
