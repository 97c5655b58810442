"""A drift report's per-feature table as CSV: every measure that applies, whichever decided."""

from __future__ import annotations

import csv
import io

from kiln.monitoring.drift_schemas import DriftReport

MEASURES = (
    "score",
    "threshold",
    "ks_statistic",
    "ks_p_value",
    "wasserstein",
    "chi2_statistic",
    "chi2_p_value",
    "jensen_shannon",
    "psi",
    "reference_null_rate",
    "current_null_rate",
)


def drift_csv(report: DriftReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["feature", "kind", "method", "drifted", "reference_count", "current_count", *MEASURES])
    for feature in report.features:
        measures = [getattr(feature, name) for name in MEASURES]
        writer.writerow(
            [
                feature.feature,
                feature.kind,
                feature.method.value if feature.method else "",
                str(feature.drifted).lower(),
                feature.reference_count,
                feature.current_count,
                *["" if value is None else f"{value:.10g}" for value in measures],
            ]
        )
    return out.getvalue()
