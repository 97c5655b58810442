"""Quality checks of a judged batch against its baseline: one result per check and column.

``check_quality`` measures schema conformance, null rates, range and category violations, the
duplicate rate, the row count against recent batch sizes, and distribution shift per numeric and
category column against the previous baseline. Every result carries the measured value, the
threshold and a sentence an owner can act on. Pure: the caller keeps the report and its baseline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.quality_baseline import Shift, category_shift, numeric_shift, summarize
from kiln.data.quality_schemas import (
    CheckKind,
    QualityBaseline,
    QualityCheck,
    QualityReport,
    QualityThresholds,
)
from kiln.data.rules import RuleOutcome
from kiln.data.spec import DatasetSchema
from kiln.data.violations import format_value

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_ROBUST_SCALE = 1.4826  # MAD of a normal distribution times this is its standard deviation
_SHIFTED = {CheckKind.numeric_shift: "distribution shifted", CheckKind.category_shift: "category mix shifted"}


def check_quality(
    frame: pd.DataFrame,
    schema: DatasetSchema,
    outcome: RuleOutcome,
    *,
    previous: QualityBaseline | None,
    thresholds: QualityThresholds,
) -> QualityReport:
    """The report of ``frame`` (the batch as it came) judged into ``outcome`` by ``split_rows``."""
    baseline = summarize(
        frame, outcome.accepted, schema, previous=previous, history=thresholds.row_count_history
    )
    measure = _Measure(schema, outcome, previous, thresholds)
    checks = [
        measure.conformance(),
        *measure.null_rates(baseline),
        *measure.violations(CheckKind.range_violations, "range", "out of range"),
        *measure.violations(CheckKind.category_violations, "category", "not allowed categories"),
        measure.duplicates(),
        measure.row_count(),
        *measure.shifts(baseline),
    ]
    return QualityReport(
        passed=all(check.passed or check.severity != "error" for check in checks),
        rows=outcome.rows,
        quarantined=len(outcome.quarantined),
        checks=checks,
        baseline=baseline,
    )


class _Measure:
    def __init__(
        self,
        schema: DatasetSchema,
        outcome: RuleOutcome,
        previous: QualityBaseline | None,
        thresholds: QualityThresholds,
    ) -> None:
        self.schema, self.previous, self.limits = schema, previous, thresholds
        self.rows = outcome.rows
        self.problems = outcome.violations

    def _check(
        self, kind: CheckKind, passed: bool, message: str, **measured: float | str | None
    ) -> QualityCheck:
        return QualityCheck(
            kind=kind, passed=passed, severity=self.limits.severity(kind), message=message, **measured
        )

    def _rows_with(self, mask: pd.Series) -> int:
        return int(self.problems.loc[mask, "row"].nunique())

    def _quarantined_for(self, column: str) -> str:
        count = self._rows_with(self.problems["column"] == column)
        return f"; {count:,} rows quarantined" if count else ""

    def conformance(self) -> QualityCheck:
        count = self._rows_with(self.problems["rule"] == "")
        rate = count / self.rows if self.rows else 0.0
        limit = self.limits.max_nonconforming_rate
        message = f"{count:,} of {self.rows:,} rows ({_percent(rate)}) break the schema"
        if rate > limit:
            message += f"; at most {_percent(limit)} may"
        return self._check(CheckKind.schema_conformance, rate <= limit, message, value=rate, threshold=limit)

    def null_rates(self, baseline: QualityBaseline) -> list[QualityCheck]:
        results = []
        for column in self.schema.columns:
            rate = baseline.null_rates[column.name]
            before = self.previous.null_rates.get(column.name) if self.previous else None
            if before is None:
                limit, trend = self.limits.max_null_rate, ""
            else:
                limit = before + self.limits.max_null_rate_increase
                trend = _trend(rate, before)
            message = (
                f"column `{column.name}`: {_percent(rate)} nulls{trend}{self._quarantined_for(column.name)}"
            )
            results.append(
                self._check(
                    CheckKind.null_rate,
                    rate <= limit,
                    message,
                    column=column.name,
                    value=rate,
                    threshold=min(limit, 1.0),
                    previous=before,
                )
            )
        return results

    def violations(self, kind: CheckKind, check: str, wording: str) -> list[QualityCheck]:
        limit = (
            self.limits.max_range_violation_rate
            if kind is CheckKind.range_violations
            else self.limits.max_category_violation_rate
        )
        found = self.problems[self.problems["check"] == check]
        results = []
        for column in sorted(set(found["column"])):
            count = self._rows_with(self.problems["column"].eq(column) & self.problems["check"].eq(check))
            rate = count / self.rows
            message = f"column `{column}`: {count:,} values ({_percent(rate)}) {wording}"
            message += self._quarantined_for(column)
            results.append(
                self._check(kind, rate <= limit, message, column=column, value=rate, threshold=limit)
            )
        return results

    def duplicates(self) -> QualityCheck:
        count = self._rows_with(self.problems["check"] == "duplicate")
        rate = count / self.rows if self.rows else 0.0
        limit = self.limits.max_duplicate_rate
        message = f"{count:,} rows ({_percent(rate)}) repeat an earlier row's key"
        return self._check(CheckKind.duplicates, rate <= limit, message, value=rate, threshold=limit)

    def row_count(self) -> QualityCheck:
        history = self.previous.row_counts if self.previous else []
        needed = self.limits.min_row_count_history
        if len(history) < needed:
            earlier = f"{len(history)} earlier batch" + ("" if len(history) == 1 else "es")
            message = f"{self.rows:,} rows; not judged: {earlier}, {needed} needed"
            return self._check(CheckKind.row_count, True, message)
        median = float(np.median(history))
        mad = float(np.median(np.abs(np.asarray(history) - median)))
        # Equal batch sizes (a MAD of 0) would make any change infinite: a tenth of the median floors it.
        scale = max(_ROBUST_SCALE * mad, 0.1 * median, 1.0)
        z = (self.rows - median) / scale
        limit = self.limits.max_row_count_z
        message = (
            f"{self.rows:,} rows, typically {median:,.0f} "
            f"(robust z {z:+.1f} over the last {len(history)} batches"
        )
        message += f"; at most ±{format_value(limit)})" if abs(z) > limit else ")"
        return self._check(
            CheckKind.row_count, abs(z) <= limit, message, value=z, threshold=limit, previous=median
        )

    def shifts(self, baseline: QualityBaseline) -> list[QualityCheck]:
        """Each numeric and category column against the previous baseline (none for a first batch)."""
        if self.previous is None:
            return []
        results = []
        for name, before in self.previous.numeric.items():
            if name not in baseline.numeric:
                continue  # the column left the schema
            shift = numeric_shift(before, baseline.numeric[name])
            if shift is not None:
                means = f"; mean {_number(baseline.numeric[name].mean)}, was {_number(before.mean)}"
                results.append(
                    self._shift(CheckKind.numeric_shift, name, shift, f"KS {shift.statistic:.2f}, ", means)
                )
        for name, counts in self.previous.categories.items():
            shift = category_shift(counts, baseline.categories.get(name, {}))
            if shift is not None:
                move = _biggest_move(counts, baseline.categories[name])
                results.append(self._shift(CheckKind.category_shift, name, shift, "", move))
        return results

    def _shift(self, kind: CheckKind, name: str, shift: Shift, measures: str, detail: str) -> QualityCheck:
        # Large AND significant: a small batch's noise is no drift, nor a large batch's trifle.
        shifted = shift.psi > self.limits.max_psi and shift.p_value < self.limits.significance
        verdict = _SHIFTED[kind] if shifted else "no shift"
        message = f"column `{name}`: {verdict} (PSI {shift.psi:.2f}, {measures}p {_p(shift.p_value)}){detail}"
        return self._check(
            kind, not shifted, message, column=name, value=shift.psi, threshold=self.limits.max_psi
        )


def _biggest_move(before: dict[str, int], after: dict[str, int]) -> str:
    total_before, total_after = sum(before.values()), sum(after.values())
    moves = {
        name: after.get(name, 0) / total_after - before.get(name, 0) / total_before
        for name in set(before) | set(after)
    }
    name = max(sorted(moves), key=lambda key: abs(moves[key]))
    share = after.get(name, 0) / total_after
    return f"; {name!r} is {_percent(share)}, was {_percent(before.get(name, 0) / total_before)}"


def _trend(rate: float, before: float) -> str:
    if rate > before:
        return f", up from {_percent(before)}"
    if rate < before:
        return f", down from {_percent(before)}"
    return ", as before"


def _percent(rate: float) -> str:
    percent = rate * 100
    if percent == 0:
        return "0%"
    if percent >= 10:
        return f"{percent:.0f}%"
    shown = f"{percent:.1f}".rstrip("0").rstrip(".") if percent >= 1 else f"{percent:.2g}"
    return f"{shown}%"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
