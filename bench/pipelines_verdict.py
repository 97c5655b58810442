"""The headline lines of the pipelines benchmark: Kiln against Prefect and raw Dask, and the targets.

Ratios above 1 mean Kiln is ahead (Prefect's time divided by Kiln's). Targets (issue 17) print as
``target met`` / ``TARGET MISSED``. A figure that was not measured (a part skipped) is NaN and its
target prints ``not measured``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.report import Report

TARGET_PER_STEP_S = 0.001  # with every step's state durably recorded
TARGET_FIXED_S = 0.050
TARGET_FIRST_RUN_S = 2.0
TARGET_DASK_VS_RAW = 2.0  # per task, Kiln's dask executor against raw client.map

NAN = float("nan")


@dataclass
class Figures:
    kiln_per_step_s: float = NAN
    kiln_fixed_s: float = NAN
    kiln_first_s: float = NAN
    kiln_dask_per_task_s: float = NAN
    raw_dask_per_task_s: float = NAN
    prefect_per_step_s: float = NAN
    prefect_fixed_s: float = NAN
    prefect_first_s: float = NAN
    prefect_dask_per_task_s: float = NAN
    prefect_raw_dask_per_task_s: float = NAN
    # (records present, steps in the run) per run
    kiln_records: list[tuple[int, int]] = field(default_factory=list)
    prefect_records: list[tuple[int, int]] = field(default_factory=list)
    prefect_records_later: list[tuple[int, int]] = field(default_factory=list)


def _met(ok: bool, *values: float) -> str:
    if any(math.isnan(value) for value in values):
        return "not measured"
    return "target met" if ok else "TARGET MISSED"


def _ratio(report: Report, name: str, theirs: float, ours: float) -> None:
    if not (math.isnan(theirs) or math.isnan(ours)) and ours > 0:
        report.ratio(name, theirs / ours, "above 1: Kiln ahead")


def _records(runs: list[tuple[int, int]]) -> tuple[int, int, int]:
    """(runs complete, runs, records missing in all)"""
    complete = sum(1 for present, expected in runs if present == expected)
    return complete, len(runs), sum(expected - present for present, expected in runs)


def verdict(report: Report, f: Figures) -> None:
    _ratio(report, "ratio.per_step.prefect_over_kiln", f.prefect_per_step_s, f.kiln_per_step_s)
    _ratio(report, "ratio.fixed_per_run.prefect_over_kiln", f.prefect_fixed_s, f.kiln_fixed_s)
    _ratio(report, "ratio.first_run.prefect_over_kiln", f.prefect_first_s, f.kiln_first_s)
    _ratio(report, "ratio.dask_per_task.prefect_over_kiln", f.prefect_dask_per_task_s, f.kiln_dask_per_task_s)
    if not math.isnan(f.prefect_dask_per_task_s):
        report.ratio(
            "ratio.prefect_dask_over_raw_dask", f.prefect_dask_per_task_s / f.prefect_raw_dask_per_task_s
        )
    complete, runs, missing = _records(f.kiln_records)
    records_ok = runs > 0 and complete == runs
    report.ratio("kiln.runs_with_every_step_recorded_at_return", complete, f"of {runs}", "runs")
    if f.prefect_records:
        p_complete, p_runs, p_missing = _records(f.prefect_records)
        report.ratio("prefect.runs_with_every_task_recorded_at_return", p_complete, f"of {p_runs}", "runs")
        report.ratio("prefect.task_records_missing_at_return", p_missing, "over all runs", "records")
        l_complete, l_runs, _ = _records(f.prefect_records_later)
        report.ratio("prefect.runs_with_every_task_recorded_1s_later", l_complete, f"of {l_runs}", "runs")
    per_step_ms = f.kiln_per_step_s * 1000
    report.ratio(
        "target.kiln_per_step_ms",
        per_step_ms,
        f"<= {TARGET_PER_STEP_S * 1000:g} ms, every step recorded: "
        + _met(f.kiln_per_step_s <= TARGET_PER_STEP_S and records_ok, per_step_ms),
        "ms",
    )
    report.ratio(
        "target.kiln_fixed_per_run_ms",
        f.kiln_fixed_s * 1000,
        f"<= {TARGET_FIXED_S * 1000:g} ms: " + _met(f.kiln_fixed_s <= TARGET_FIXED_S, f.kiln_fixed_s),
        "ms",
    )
    report.ratio(
        "target.kiln_first_run_s",
        f.kiln_first_s,
        f"< {TARGET_FIRST_RUN_S:g} s: " + _met(f.kiln_first_s < TARGET_FIRST_RUN_S, f.kiln_first_s),
        "s",
    )
    dask_ratio = f.kiln_dask_per_task_s / f.raw_dask_per_task_s
    report.ratio(
        "target.kiln_dask_per_task_over_raw_dask",
        dask_ratio,
        f"<= {TARGET_DASK_VS_RAW:g}x: " + _met(dask_ratio <= TARGET_DASK_VS_RAW, dask_ratio),
    )
    report.ratio(
        "target.every_step_recorded_at_return",
        complete,
        f"of {runs} runs, {missing} missing: " + _met(records_ok),
        "runs",
    )
