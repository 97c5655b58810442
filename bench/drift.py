"""Kiln's drift against Evidently's ``DataDriftPreset`` on the same data, with the same thresholds.

20 features (15 numeric, 5 categorical), a 100k-row reference against a 100k-row current set with
drift injected in known columns (bench/drift_data.py), and against a current set drawn like the
reference (no drift). Kiln builds its per-feature state (reference deciles and counts, a 5,000-value
sample per numeric feature, category counts) from the raw columns and judges every feature; Evidently
runs its preset in its own venv (bench/drift_evidently.py). Both decide large windows by a distance
at 0.1: Wasserstein in reference standard deviations, Jensen-Shannon. Evidently's Jensen-Shannon is
in natural-log units, Kiln's in bits: Kiln is given 0.1 / sqrt(ln 2) (the same threshold in bits).

Also measured: folding a 1k-row batch of the 20 features into the drift state (what the prediction
log's pages cost), and the false-alarm rate at 1k-row windows on data drawn like a 1k-row reference,
for Kiln's two-sample tests and for Evidently's chi-square (a goodness-of-fit test that takes the
reference's shares as exact) and KS.

    .bench-venv/bin/python -m bench.drift [--rows 100000]   # or: bash bench/run.sh drift
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.drift_data import CATEGORICAL, INJECTED, NULL_ROWS, NUMERIC, build
from bench.report import Report
from kiln.monitoring.drift import drift_report, feature_drift
from kiln.monitoring.drift_schemas import DriftReport, DriftThresholds, FeatureState, FeatureThresholds
from kiln.monitoring.drift_state import categorical_reference, empty_like, fold, numeric_reference, update

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = DriftThresholds(
    default=FeatureThresholds(wasserstein=0.1, jensen_shannon=0.1 / math.sqrt(math.log(2)))
)
FOLD_BATCHES = 300


def references(data: Any) -> dict[str, FeatureState]:
    states: dict[str, FeatureState] = {}
    for index, name in enumerate(NUMERIC):
        states[name] = numeric_reference(data["reference_numeric"][:, index])
    for index, name in enumerate(CATEGORICAL):
        states[name] = categorical_reference(data["reference_categorical"][:, index])
    return states


def window(
    refs: dict[str, FeatureState], numeric: np.ndarray, categorical: np.ndarray, seed: int
) -> dict[str, FeatureState]:
    columns = {name: numeric[:, i] for i, name in enumerate(NUMERIC)}
    columns.update({name: categorical[:, i] for i, name in enumerate(CATEGORICAL)})
    return {
        name: update(empty_like(state), columns[name], seed=seed + i)
        for i, (name, state) in enumerate(refs.items())
    }


def kiln_report(data: Any, current: str) -> DriftReport:
    refs = references(data)
    return drift_report(
        refs, window(refs, data[f"{current}_numeric"], data[f"{current}_categorical"], 1), THRESHOLDS
    )


def best_of(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return min(times), result


def fold_time(data: Any) -> float:
    """Median seconds to fold one 1k-row batch of all 20 features into a window's state."""
    refs = references(data)
    windows = {name: fold(empty_like(state)) for name, state in refs.items()}
    numeric, categorical = data["same_numeric"], data["same_categorical"]
    rows = len(numeric)
    times = []
    for batch in range(FOLD_BATCHES):
        start = (batch * 1_000) % (rows - 1_000)
        began = time.perf_counter()
        for index, name in enumerate(NUMERIC):
            windows[name].add(numeric[start : start + 1_000, index], seed=batch)
        for index, name in enumerate(CATEGORICAL):
            windows[name].add(categorical[start : start + 1_000, index], seed=batch)
        times.append(time.perf_counter() - began)
    return float(np.median(times))


def kiln_null_rates(data: Any) -> dict[str, float]:
    """Each window against a reference of its own, both drawn from the same law."""
    limits = FeatureThresholds()
    chi = ks = 0
    pairs = zip(data["null_references"], data["null_windows"], strict=True)
    for index, (reference, current) in enumerate(pairs):
        category = categorical_reference(reference)
        judged = update(empty_like(category), current, seed=index)
        chi += feature_drift("c", category, judged, limits, small_window=NULL_ROWS).drifted
    pairs = zip(data["null_numeric_references"], data["null_numeric_windows"], strict=True)
    for index, (reference, current) in enumerate(pairs):
        number = numeric_reference(reference)
        judged = update(empty_like(number), current, seed=index)
        ks += feature_drift("x", number, judged, limits, small_window=NULL_ROWS).drifted
    return {"chi2": chi / len(data["null_windows"]), "ks": ks / len(data["null_numeric_windows"])}


def evidently(path: Path) -> dict[str, Any]:
    venv = Path(os.environ.get("BENCH_EVIDENTLY_VENV", ROOT / ".bench-venv-evidently"))
    answer = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "bench.drift_evidently", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=1_800,
    )
    result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


def agreement(report: Report, name: str, kiln: DriftReport, theirs: dict[str, Any]) -> None:
    ours = {feature.feature: feature for feature in kiln.features}
    agree = [column for column in ours if ours[column].drifted == theirs[column]["drifted"]]
    report.figure(f"{name}_verdicts_agreeing", len(agree), f"of {len(ours)} features")
    report.figure(f"{name}_kiln_drifted", len(kiln.drifted_features), "features")
    report.figure(f"{name}_evidently_drifted", sum(v["drifted"] for v in theirs.values()), "features")
    for column in ours:
        if column in agree:
            continue
        mine, other = ours[column], theirs[column]
        kiln_side = f"Kiln {_word(mine.drifted)} ({mine.method} {mine.score})"
        their_side = f"Evidently {_word(other['drifted'])} ({other['method']} {other['score']:.4g})"
        report.note(f"{name} {column}: {kiln_side}, {their_side}")
    if name == "drifted":
        expected = sorted(INJECTED)
        report.note(f"injected: {expected}; Kiln drifted: {sorted(kiln.drifted_features)}")


def _word(drifted: bool) -> str:
    return "drifted" if drifted else "stable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rows", type=int, default=100_000, help="rows of the reference and of each current set"
    )
    args = parser.parse_args()
    report = Report("drift")
    with tempfile.TemporaryDirectory() as scratch:
        path = build(Path(scratch), args.rows)
        data = dict(np.load(path))
        theirs = evidently(path)
    kiln_seconds, drifted = best_of(3, lambda: kiln_report(data, "drifted"))
    _, same = best_of(1, lambda: kiln_report(data, "same"))
    refs = references(data)
    current = window(refs, data["drifted_numeric"], data["drifted_categorical"], 1)
    verdict_seconds, _ = best_of(5, lambda: drift_report(refs, current, THRESHOLDS))

    report.figure("rows", args.rows, "rows per set")
    report.note(f"Evidently {theirs['version']}")
    report.figure("evidently_import_seconds", theirs["import_seconds"], "s")
    report.figure("evidently_preset_seconds", theirs["drifted_seconds"], "s")
    report.figure("evidently_preset_no_drift_seconds", theirs["same_seconds"], "s")
    report.figure("kiln_state_and_verdicts_seconds", kiln_seconds, "s")
    report.figure("kiln_verdicts_from_state_seconds", verdict_seconds, "s")
    agreement(report, "drifted", drifted, theirs["drifted"])
    agreement(report, "no_drift", same, theirs["same"])
    fold = fold_time(data)
    report.figure("kiln_fold_1k_rows_20_features_ms", fold * 1_000, "ms (target < 5)")
    ours = kiln_null_rates(data)
    report.figure("null_windows", len(data["null_windows"]), f"windows of {NULL_ROWS} rows")
    report.figure("kiln_null_false_alarm_rate_category_chi2", ours["chi2"], "(nominal 0.05)")
    report.figure("kiln_null_false_alarm_rate_numeric_ks", ours["ks"], "(nominal 0.05)")
    rates = theirs["null_false_alarm_rate"]
    report.figure("evidently_null_false_alarm_rate_category_chi2", rates["chi2"], "(nominal 0.05)")
    report.figure("evidently_null_false_alarm_rate_numeric_ks", rates["ks"], "(nominal 0.05)")
    report.ratio("kiln_speedup_vs_evidently", theirs["drifted_seconds"] / kiln_seconds, "target >= 40")
    print(f"results: {report.finish()}")


if __name__ == "__main__":
    main()
