"""A dataset's quality over its versions: the trend charts ``kiln.js`` draws and the same figures as CSV.

One point per version, oldest first, x the version number: rows kept and quarantined, the null
rate of every column (from the version's statistics), and the failed checks. The payload has the
shape the run pages use (``{key, element, x_title, series: [{name, x, y, lo, hi}]}``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from kiln.data.schemas import DatasetVersionRead
from kiln.ui.charts import finite


@dataclass(frozen=True, slots=True)
class TrendPoint:
    number: int
    rows: int
    quarantined: int
    failed_checks: int
    passed: bool
    null_rates: dict[str, float | None]  # percent of the version's rows, per column


def trend(versions: list[DatasetVersionRead]) -> list[TrendPoint]:
    """The versions' figures, oldest first (``versions`` in any order)."""
    points = []
    for version in sorted(versions, key=lambda item: item.number):
        rates: dict[str, float | None] = {}
        for column in version.statistics:
            present = column.count + column.nulls
            rates[column.name] = 100 * column.nulls / present if present else None
        points.append(
            TrendPoint(
                number=version.number,
                rows=version.rows,
                quarantined=version.quarantine.rows,
                failed_checks=sum(1 for check in version.quality.checks if not check.passed),
                passed=version.quality.passed,
                null_rates=rates,
            )
        )
    return points


def _series(name: str, x: list[int], y: list[float | None]) -> dict[str, Any]:
    return {"name": name, "x": x, "y": y, "lo": None, "hi": None}


def _chart(key: str, element: str, series: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "element": element, "x_title": "version", "series": series}


def trend_charts(points: list[TrendPoint]) -> list[dict[str, Any]]:
    x = [point.number for point in points]
    columns = sorted({name for point in points for name in point.null_rates})
    return [
        _chart(
            "Rows per version",
            "chart-rows",
            [
                _series("kept", x, [float(point.rows) for point in points]),
                _series("quarantined", x, [float(point.quarantined) for point in points]),
            ],
        ),
        _chart(
            "Null rate per column (%)",
            "chart-nulls",
            [_series(name, x, [finite(point.null_rates.get(name)) for point in points]) for name in columns],
        ),
        _chart(
            "Failed quality checks",
            "chart-checks",
            [_series("failed checks", x, [float(point.failed_checks) for point in points])],
        ),
    ]


def trend_csv(points: list[TrendPoint]) -> str:
    """The charts' data: one row per version, the null rates as ``nulls_pct.<column>``."""
    columns = sorted({name for point in points for name in point.null_rates})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["version", "rows", "quarantined", "failed_checks", "passed", *[f"nulls_pct.{c}" for c in columns]]
    )
    for point in points:
        rates = [point.null_rates.get(name) for name in columns]
        writer.writerow(
            [
                point.number,
                point.rows,
                point.quarantined,
                point.failed_checks,
                str(point.passed).lower(),
                *["" if rate is None else f"{rate:.6g}" for rate in rates],
            ]
        )
    return out.getvalue()
