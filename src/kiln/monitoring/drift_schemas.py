"""Drift: per-feature state, thresholds and reports. Pydantic only (the API and SDK read them).

A feature's ``FeatureState`` is what drift needs of a set of values, kept small and mergeable so a
window is updated batch by batch and never reread: for numbers, counts over the reference's decile
bins plus a uniform random sample (bottom-k by random priority, so two windows' samples merge into a
sample of their union); for categories, counts. The reference (training inputs) is a state too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from kiln.core.schemas import InputSchema, ReadSchema


class DriftMethod(StrEnum):
    # Per window size: a test where the window is small, a distance where it is large (a test on
    # thousands of points calls every trivial difference significant).
    auto = "auto"
    ks = "ks"  # two-sample Kolmogorov-Smirnov, numbers
    wasserstein = "wasserstein"  # Wasserstein distance in units of the reference's std, numbers
    chi2 = "chi2"  # two-sample chi-squared on the contingency table, categories
    jensen_shannon = "jensen_shannon"  # Jensen-Shannon distance (base 2, 0..1), categories
    psi = "psi"  # population stability index, both


NUMERIC_METHODS = frozenset({DriftMethod.ks, DriftMethod.wasserstein, DriftMethod.psi})
CATEGORICAL_METHODS = frozenset({DriftMethod.chi2, DriftMethod.jensen_shannon, DriftMethod.psi})

Share = Annotated[float, Field(gt=0, le=1)]


class FeatureThresholds(InputSchema):
    method: DriftMethod = DriftMethod.auto
    p_value: Annotated[float, Field(gt=0, lt=1)] = Field(0.05, description="tests: drift below it")
    wasserstein: Annotated[float, Field(gt=0)] = Field(0.1, description="in reference standard deviations")
    jensen_shannon: Share = 0.1
    psi: Annotated[float, Field(gt=0)] = 0.2


class DriftThresholds(InputSchema):
    default: FeatureThresholds = Field(default_factory=FeatureThresholds)
    features: dict[str, FeatureThresholds] = Field(default_factory=dict, description="per-feature overrides")
    small_window: Annotated[int, Field(ge=1)] = Field(
        1_000, description="auto: a window of at most this many values is tested, a larger one measured"
    )
    drifted_share: Share = Field(0.5, description="share of drifted features that is dataset drift")
    ignore: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list, description="features left out of the report (ids, timestamps, free text)"
    )

    def for_feature(self, name: str) -> FeatureThresholds:
        return self.features.get(name, self.default)


class NumericState(ReadSchema):
    kind: Literal["numeric"] = "numeric"
    count: int = 0
    nulls: int = 0
    # The reference's decile edges; counts in (-inf, e0], (e0, e1], ..., (en, inf).
    edges: list[float]
    counts: list[int]
    # A uniform sample of the values: those with the smallest random priorities seen so far.
    sample: list[float] = Field(default_factory=list)
    priorities: list[float] = Field(default_factory=list)


class CategoricalState(ReadSchema):
    kind: Literal["categorical"] = "categorical"
    count: int = 0
    nulls: int = 0
    counts: dict[str, int] = Field(default_factory=dict)


FeatureState = Annotated[NumericState | CategoricalState, Field(discriminator="kind")]


class FeatureHistogram(ReadSchema):
    """Reference against current over the same bins, for a chart: a numeric feature's reference
    decile bins (``edges``: their inner boundaries), a categorical feature's most frequent categories
    (the rest summed as ``(other)``)."""

    bins: list[str]
    edges: list[float] | None = None
    reference: list[int]
    current: list[int]


class FeatureDrift(ReadSchema):
    feature: str
    kind: Literal["numeric", "categorical"]
    method: DriftMethod | None = Field(description="what decided; None when the window is empty")
    drifted: bool
    score: float | None = Field(None, description="the deciding method's value (a p-value for tests)")
    threshold: float | None = None
    reference_count: int
    current_count: int
    reference_null_rate: float
    current_null_rate: float
    # Every measure that applies, whatever decided, for charts and for comparing methods.
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    wasserstein: float | None = None
    chi2_statistic: float | None = None
    chi2_p_value: float | None = None
    jensen_shannon: float | None = None
    psi: float | None = None
    message: str
    histogram: FeatureHistogram | None = None


class DriftReport(ReadSchema):
    features: list[FeatureDrift]
    drifted_features: list[str]
    drifted_share: float
    dataset_drift: bool = Field(description="the drifted share reached its threshold")
    prediction_drift: bool | None = Field(
        None, description="the model's outputs drifted; None if not watched"
    )
    retrain_recommended: bool
    summary: str


class DriftWindow(StrEnum):
    """The windows drift reports are stored for: an hour for alerts, a day for trends (a minute
    holds too few rows for a test to see anything)."""

    hour = "1h"
    day = "1d"


DRIFT_WINDOW_SECONDS = {DriftWindow.hour: 3_600, DriftWindow.day: 86_400}


class DriftReportSummary(ReadSchema):
    """A stored report without its per-feature detail: what a list shows."""

    id: str
    deployment: str
    model_version_id: str | None
    model_version_number: int | None
    window_seconds: int
    start: datetime
    end: datetime
    rows: int = Field(description="served rows the window held")
    dataset_drift: bool
    prediction_drift: bool | None
    drifted_share: float
    retrain_recommended: bool
    drifted_features: list[str]
    summary: str
    computed_at: datetime


class DriftReportRead(DriftReportSummary):
    """A stored report with every feature's measures and reference-vs-current histogram."""

    features: list[FeatureDrift]
    thresholds: DriftThresholds
    thresholds_source: str | None = Field(
        None, description="where they came from: the version's or the model's drift settings, or defaults"
    )


class DriftReportFilter(InputSchema):
    """``GET /api/v1/monitoring/deployments/{name}/drift-reports``: newest first."""

    # It shares the query string with paging (limit, cursor).
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    window: DriftWindow | None = Field(None, description="1h or 1d; default: both")
    start: datetime | None = Field(None, alias="from", description="reports starting at or after this")
    end: datetime | None = Field(None, alias="to", description="reports starting before this")
    retrain_recommended: bool | None = None


class FeatureScorePoint(ReadSchema):
    report_id: str
    start: datetime
    method: DriftMethod | None
    score: float | None = Field(description="the deciding method's value (a p-value for tests)")
    threshold: float | None
    drifted: bool
    psi: float | None
    current_count: int


class FeatureScoreSeries(ReadSchema):
    deployment: str
    feature: str
    window: DriftWindow
    points: list[FeatureScorePoint] = Field(description="stored reports in the range, oldest first")
