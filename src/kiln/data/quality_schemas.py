"""Quality checks' thresholds, results and the baseline they compare against. Pydantic only.

A ``QualityBaseline`` is the small summary of one batch or version that the next one is compared
with (bin edges and counts, a quantile sketch, category counts, null rates, recent row counts), so
checks never reread history. ``check_quality`` returns it inside the report; keep it per version.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kiln.core.schemas import InputSchema, ReadSchema


class Severity(StrEnum):
    error = "error"  # fails the report: the version fails its quality gate
    warning = "warning"  # reported and alerted, the version stays usable


class CheckKind(StrEnum):
    schema_conformance = "schema_conformance"
    null_rate = "null_rate"
    range_violations = "range_violations"
    category_violations = "category_violations"
    duplicates = "duplicates"
    row_count = "row_count"
    numeric_shift = "numeric_shift"
    category_shift = "category_shift"


DEFAULT_SEVERITIES: dict[CheckKind, Severity] = {
    CheckKind.schema_conformance: Severity.error,
    CheckKind.null_rate: Severity.error,
    # Their rows are quarantined already: what reaches the version is clean.
    CheckKind.range_violations: Severity.warning,
    CheckKind.category_violations: Severity.warning,
    CheckKind.duplicates: Severity.warning,
    CheckKind.row_count: Severity.warning,
    CheckKind.numeric_shift: Severity.error,
    CheckKind.category_shift: Severity.error,
}

Rate = Annotated[float, Field(ge=0, le=1)]


class QualityThresholds(InputSchema):
    """Limits per check. Rates are fractions of the batch's rows (0.05 = 5%)."""

    max_nonconforming_rate: Rate = Field(0.05, description="rows breaking the declared schema")
    max_null_rate_increase: Rate = Field(0.05, description="a column's null rate over the previous one's")
    max_null_rate: Rate = Field(0.5, description="a column's null rate when there is no previous")
    max_range_violation_rate: Rate = 0.01
    max_category_violation_rate: Rate = 0.01
    max_duplicate_rate: Rate = 0.01
    row_count_history: Annotated[int, Field(ge=2, le=1_000)] = 20
    min_row_count_history: Annotated[int, Field(ge=2, le=1_000)] = 5
    max_row_count_z: Annotated[float, Field(gt=0)] = Field(
        3.5, description="robust z-score (median and MAD) of the batch size against recent batch sizes"
    )
    # Shift: an effect size (population stability index) that must be large AND significant, so that
    # a small batch's noise is not drift and a large batch's trivial difference is not either.
    max_psi: Annotated[float, Field(gt=0)] = Field(0.2, description="population stability index")
    significance: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.01, description="p-value below which a shift is real (KS for numbers, chi-squared for categories)"
    )
    severities: dict[CheckKind, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))

    def severity(self, kind: CheckKind) -> Severity:
        return self.severities.get(kind, DEFAULT_SEVERITIES[kind])


class QualityCheck(ReadSchema):
    kind: CheckKind
    column: str | None = None
    passed: bool
    severity: Severity
    value: float | None = Field(None, description="what was measured; None when not judged")
    threshold: float | None = None
    previous: float | None = Field(None, description="the same measure on the baseline, where it has one")
    message: str


class NumericSummary(ReadSchema):
    count: int
    mean: float | None = None
    # Decile edges of the values and the counts in the bins they make (-inf, e0], (e0, e1], ..., (en, inf).
    edges: list[float]
    counts: list[int]
    # Evenly spaced quantiles (at most 1,000) standing in for the values in a two-sample KS test.
    sketch: list[float]


class QualityBaseline(ReadSchema):
    rows: int
    # The sizes of recent batches, oldest first, this one last.
    row_counts: list[int]
    null_rates: dict[str, float]
    numeric: dict[str, NumericSummary] = Field(default_factory=dict)
    categories: dict[str, dict[str, int]] = Field(default_factory=dict)


class QualityReport(ReadSchema):
    passed: bool = Field(description="no failed check of severity error")
    rows: int
    quarantined: int
    checks: list[QualityCheck]
    baseline: QualityBaseline = Field(description="this batch's summary: the next check's `previous`")

    @property
    def failed(self) -> list[QualityCheck]:
        return [check for check in self.checks if not check.passed]
