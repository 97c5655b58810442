"""Stored drift reports as charts and their CSVs: each feature's PSI per window (with the PSI
threshold as a dashed line and the windows where the feature drifted marked), and one feature's
reference-vs-current histogram of a report.

PSI is drawn rather than each method's own score: it means the same for numbers and categories and
for every window size, so one axis and one threshold line hold all features. The verdict (decided
by KS, chi-squared, Wasserstein or Jensen-Shannon) is the marker and a CSV column. As for the
metric charts, one table is the source of both the chart payload and the CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kiln.monitoring.drift_schemas import FeatureDrift, FeatureScorePoint
from kiln.ui.charts import finite
from kiln.ui.monitoring.metric_view import TIME_FORMAT

SCORES_ELEMENT = "chart-drift-scores"
THRESHOLD = "PSI threshold"


@dataclass(slots=True)
class ScoreColumn:
    feature: str
    psi: list[float | None]
    drifted: list[bool | None]  # None: no report of that window holds the feature
    highlighted: bool  # drifted in the latest report


@dataclass(slots=True)
class DriftScoresTable:
    starts: list[datetime]
    ends: list[datetime]
    threshold: float
    columns: list[ScoreColumn] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        x = [start.strftime(TIME_FORMAT) for start in self.starts]
        series: list[dict[str, Any]] = [
            {
                "name": column.feature,
                "x": x,
                "y": [finite(value) for value in column.psi],
                "lo": None,
                "hi": None,
                "marked": [bool(flag) for flag in column.drifted],
                "emphasis": column.highlighted,
            }
            for column in self.columns
        ]
        series.append(
            {"name": THRESHOLD, "x": x, "y": [self.threshold] * len(x), "lo": None, "hi": None, "dash": True}
        )
        return {
            "key": "Drift over time",
            "element": SCORES_ELEMENT,
            "x_title": "window start (UTC)",
            "y_title": "PSI",
            "series": series,
        }


def scores_table(
    points: dict[str, list[FeatureScorePoint]], *, seconds: int, threshold: float, highlighted: set[str]
) -> DriftScoresTable:
    """The features' points aligned on their windows' starts; drifted-now features first."""
    starts = sorted({point.start for feature in points.values() for point in feature})
    table = DriftScoresTable(starts, [start + timedelta(seconds=seconds) for start in starts], threshold)
    for feature in sorted(points, key=lambda name: (name not in highlighted, name)):
        by_start = {point.start: point for point in points[feature]}
        found = [by_start.get(start) for start in starts]
        table.columns.append(
            ScoreColumn(
                feature,
                [None if point is None else point.psi for point in found],
                [None if point is None else point.drifted for point in found],
                feature in highlighted,
            )
        )
    return table


def scores_csv(table: DriftScoresTable) -> str:
    """A row per window: each feature's PSI and verdict as drawn, and the threshold line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["window_start", "window_end"]
    for column in table.columns:
        header += [column.feature, f"{column.feature} drifted"]
    writer.writerow([*header, THRESHOLD])
    for index, (start, end) in enumerate(zip(table.starts, table.ends, strict=True)):
        cells: list[str] = [start.isoformat(), end.isoformat()]
        for column in table.columns:
            value, drifted = column.psi[index], column.drifted[index]
            cells.append("" if value is None else f"{value:.10g}")
            cells.append("" if drifted is None else str(drifted).lower())
        writer.writerow([*cells, f"{table.threshold:.10g}"])
    return out.getvalue()


@dataclass(slots=True)
class HistogramTable:
    feature: str
    element: str
    bins: list[str]
    reference: list[int]
    current: list[int]

    @staticmethod
    def _shares(counts: list[int]) -> list[float]:
        total = sum(counts)
        return [count / total if total else 0.0 for count in counts]

    @property
    def reference_share(self) -> list[float]:
        return self._shares(self.reference)

    @property
    def current_share(self) -> list[float]:
        return self._shares(self.current)

    def payload(self) -> dict[str, Any]:
        # Shares, not counts: the reference sample and a window rarely hold the same number of rows.
        return {
            "key": f"{self.feature}: reference vs current",
            "element": self.element,
            "type": "bar",
            "x_title": "bin",
            "y_title": "share of rows",
            "series": [
                {
                    "name": "reference",
                    "x": self.bins,
                    "y": [finite(v) for v in self.reference_share],
                    "lo": None,
                    "hi": None,
                },
                {
                    "name": "current",
                    "x": self.bins,
                    "y": [finite(v) for v in self.current_share],
                    "lo": None,
                    "hi": None,
                },
            ],
        }


def histogram_table(feature: FeatureDrift, index: int) -> HistogramTable | None:
    if feature.histogram is None:
        return None
    found = feature.histogram
    return HistogramTable(
        feature.feature, f"chart-histogram-{index}", found.bins, found.reference, found.current
    )


def histogram_csv(table: HistogramTable) -> str:
    """A row per bin: the shares as drawn and the counts behind them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["bin", "reference", "current", "reference_count", "current_count"])
    rows = zip(
        table.bins, table.reference_share, table.current_share, table.reference, table.current, strict=True
    )
    for name, ref_share, cur_share, ref, cur in rows:
        writer.writerow([name, f"{ref_share:.10g}", f"{cur_share:.10g}", ref, cur])
    return out.getvalue()
