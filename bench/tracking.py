"""Kiln's tracking against MLflow's, side by side in one run on the same machine.

Both servers run on SQLite behind their own HTTP servers, each in a fresh temp dir, on loopback.
Run from the repository root inside the benchmark venv: ``python -m bench.tracking`` (``make bench``).
Figures print as ``name: value unit``; the ratios against MLflow come last.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.kiln_login import Identity
from bench.report import Report
from bench.servers import QUIET_ENV, Server, kiln_server, mlflow_server
from bench.workload import BenchFailure, SearchTimes, Timed

os.environ.update(QUIET_ENV)  # before mlflow is imported: no telemetry leaves the machine

from bench import kiln_workloads, mlflow_workloads

MB = 1024 * 1024

# Targets from the issue.
TARGET_LOG_METRIC_RATIO = 20.0
TARGET_LOG_BATCH_RATIO = 5.0
TARGET_HEALTHY_SECONDS = 3.0
TARGET_IDLE_MB = 300.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000, help="log_metric calls for Kiln in (a)")
    parser.add_argument(
        "--mlflow-calls",
        type=int,
        default=5000,
        help="log_metric calls for MLflow in (a); fewer keeps the run short, the ratio is by calls/s",
    )
    parser.add_argument("--batch-values", type=int, default=50_000, help="metric values in (b)")
    parser.add_argument("--runs", type=int, default=1000, help="runs created and searched in (c)")
    parser.add_argument(
        "--no-mlflow-variants",
        action="store_true",
        help="skip the reference figures for MLflow without its job runner and with async logging",
    )
    parser.add_argument(
        "--kiln-starts",
        type=int,
        default=5,
        help="extra Kiln starts (each on a fresh home) for a median and minimum start-up time",
    )
    return parser.parse_args(argv)


def _server_figures(report: Report, server: Server, healthy: float) -> float:
    """Start-up and idle figures; returns the idle RSS in MB."""
    report.figure(f"{server.name}.healthy_after_start_s", healthy, "s")
    report.figure(f"{server.name}.startup_cpu_s", server.startup_cpu_s, "s")
    settled = server.wait_settled(timeout=240)
    if not settled.settled:
        report.note(f"{server.name}: not settled after {settled.waited_s:.0f} s; measured anyway")
    rss = server.rss_bytes() / MB
    report.figure(f"{server.name}.idle_rss_mb", rss, "MB")
    report.figure(f"{server.name}.idle_processes", len(server.tree()), "processes")
    report.figure(f"{server.name}.idle_cpu_pct", settled.cpu_cores * 100, "% of a core")
    report.note(f"{server.name}: settled {settled.waited_s:.1f} s after it was healthy")
    return rss


def _extra_kiln_starts(tmp: Path, starts: int) -> list[tuple[float, float]]:
    """Start Kiln again and again, each on a fresh home: (seconds to healthy, CPU seconds) each.

    On a shared machine one start can land in someone else's busy second; the median of several
    is what the target is judged on, the minimum is the closest to an idle machine. Kiln starts in
    seconds, so this is cheap; MLflow's single start takes tens of seconds.
    """
    results: list[tuple[float, float]] = []
    for index in range(starts):
        with kiln_server(tmp / f"kiln-start-{index}") as (server, healthy):
            results.append((healthy, server.startup_cpu_s))
    return results


def _start_figures(report: Report, starts: list[tuple[float, float]]) -> float:
    """Median and minimum over every Kiln start; returns the median seconds to healthy."""
    walls = [wall for wall, _ in starts]
    count = len(starts)
    report.figure(f"kiln.healthy_after_start_s.median_of_{count}", statistics.median(walls), "s")
    report.figure(f"kiln.healthy_after_start_s.min_of_{count}", min(walls), "s")
    report.figure(f"kiln.startup_cpu_s.median_of_{count}", statistics.median(c for _, c in starts), "s")
    return statistics.median(walls)


def _loop_figures(report: Report, name: str, timed: Timed) -> None:
    report.figure(f"{name}.log_metric_loop.calls", timed.items, "calls")
    report.figure(f"{name}.log_metric_loop.total_s", timed.seconds, "s")
    report.figure(f"{name}.log_metric_loop.calls_per_s", timed.per_second, "calls/s")
    if timed.start_seconds is not None:
        report.figure(f"{name}.log_metric_loop.start_run_s", timed.start_seconds, "s")
    if timed.loop_seconds is not None:
        report.figure(f"{name}.log_metric_loop.in_calls_s", timed.loop_seconds, "s")
        report.figure(f"{name}.log_metric_loop.per_call_us", timed.loop_seconds / timed.items * 1e6, "us")
    if timed.finish_seconds is not None:
        report.figure(f"{name}.log_metric_loop.deliver_and_end_s", timed.finish_seconds, "s")


def _search_figures(report: Report, name: str, times: SearchTimes) -> None:
    report.figure(f"{name}.create_runs.total_s", times.create.seconds, "s")
    report.figure(f"{name}.create_runs.runs_per_s", times.create.per_second, "runs/s")
    report.figure(f"{name}.search_filter.total_s", times.filtered.seconds, "s")
    report.figure(f"{name}.search_filter.matched", times.filtered.items, "runs")
    report.figure(f"{name}.search_list_all.total_s", times.listed.seconds, "s")


def _use_token(identity: Identity) -> None:
    """A fresh access token for the SDK (``KILN_TOKEN``), as a logged-in user's would be."""
    token = identity.token()
    if token is not None:
        os.environ["KILN_TOKEN"] = token


def _met(ok: bool) -> str:
    return "target met" if ok else "TARGET MISSED"


def _run(args: argparse.Namespace, report: Report, tmp: Path) -> None:
    # Other processes compete for the 2 cores: the load average says how much, before and after.
    report.figure("machine.load_avg_1m_before", os.getloadavg()[0], "load")
    starts = _extra_kiln_starts(tmp, args.kiln_starts)
    with ExitStack() as stack:
        # One server at a time through start-up, so neither's start-up competes with the other's.
        kiln, kiln_healthy = stack.enter_context(kiln_server(tmp / "kiln"))
        kiln_rss = _server_figures(report, kiln, kiln_healthy)
        kiln_start_median = _start_figures(report, [*starts, (kiln_healthy, kiln.startup_cpu_s)])
        variant_rss: float | None = None
        if not args.no_mlflow_variants:
            # For reference only: MLflow with its job runner (and its queue consumers) switched off.
            with mlflow_server(
                tmp / "mlflow-nojobs", name="mlflow_nojobs", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"
            ) as (variant, variant_healthy):
                variant_rss = _server_figures(report, variant, variant_healthy)
        mlflow, mlflow_healthy = stack.enter_context(mlflow_server(tmp / "mlflow"))
        mlflow_rss = _server_figures(report, mlflow, mlflow_healthy)

        identity = Identity(kiln.url)

        # Workloads alternate between the two, so a change in machine load hits both alike.
        _use_token(identity)
        kiln_loop = kiln_workloads.log_metric_loop(kiln.url, args.calls, limit=600)
        _loop_figures(report, "kiln", kiln_loop)
        mlflow_loop = mlflow_workloads.log_metric_loop(mlflow.url, args.mlflow_calls, limit=2400)
        _loop_figures(report, "mlflow", mlflow_loop)
        mlflow_async: Timed | None = None
        if not args.no_mlflow_variants:
            mlflow_async = mlflow_workloads.log_metric_loop(
                mlflow.url, args.mlflow_calls, limit=1200, asynchronous=True
            )
            _loop_figures(report, "mlflow_async", mlflow_async)

        _use_token(identity)
        kiln_batch = kiln_workloads.log_batch(kiln.url, args.batch_values, limit=600)
        report.figure("kiln.log_batch.total_s", kiln_batch.seconds, "s")
        report.figure("kiln.log_batch.values_per_s", kiln_batch.per_second, "values/s")
        mlflow_batch = mlflow_workloads.log_batch(mlflow.url, args.batch_values, limit=1200)
        report.figure("mlflow.log_batch.total_s", mlflow_batch.seconds, "s")
        report.figure("mlflow.log_batch.values_per_s", mlflow_batch.per_second, "values/s")

        _use_token(identity)
        kiln_search = kiln_workloads.runs_and_search(kiln.url, args.runs, limit=900)
        _search_figures(report, "kiln", kiln_search)
        mlflow_search = mlflow_workloads.runs_and_search(mlflow.url, args.runs, limit=1800)
        _search_figures(report, "mlflow", mlflow_search)

        report.figure("kiln.rss_after_workloads_mb", kiln.rss_bytes() / MB, "MB")
        report.figure("mlflow.rss_after_workloads_mb", mlflow.rss_bytes() / MB, "MB")
    report.figure("machine.load_avg_1m_after", os.getloadavg()[0], "load")

    loop_ratio = kiln_loop.per_second / mlflow_loop.per_second
    batch_ratio = kiln_batch.per_second / mlflow_batch.per_second
    if args.mlflow_calls != args.calls:
        report.note(f"(a) ran {args.calls} Kiln calls and {args.mlflow_calls} MLflow calls; ratio by calls/s")
    report.ratio(
        "ratio.log_metric_loop",
        loop_ratio,
        f"Kiln vs MLflow calls/s to durable; target >= {TARGET_LOG_METRIC_RATIO:.0f} x: "
        + _met(loop_ratio >= TARGET_LOG_METRIC_RATIO),
    )
    if mlflow_async is not None:
        report.ratio(
            "ratio.log_metric_loop_vs_mlflow_async",
            kiln_loop.per_second / mlflow_async.per_second,
            "against MLflow's opt-in async logging; no target",
        )
    report.ratio(
        "ratio.log_batch",
        batch_ratio,
        f"Kiln vs MLflow values/s to durable; target >= {TARGET_LOG_BATCH_RATIO:.0f} x: "
        + _met(batch_ratio >= TARGET_LOG_BATCH_RATIO),
    )
    ratios: list[tuple[str, Callable[[SearchTimes], Timed], str]] = [
        ("ratio.create_runs", lambda t: t.create, "MLflow time / Kiln time"),
        ("ratio.search_filter", lambda t: t.filtered, "MLflow time / Kiln time"),
        ("ratio.search_list_all", lambda t: t.listed, "MLflow time / Kiln time"),
    ]
    for name, pick, meaning in ratios:
        report.ratio(name, pick(mlflow_search).seconds / pick(kiln_search).seconds, meaning)
    report.ratio(
        "ratio.healthy_after_start",
        mlflow_healthy / kiln_healthy,
        f"MLflow time / Kiln time (the starts the workloads ran on); Kiln median of {len(starts) + 1} starts "
        f"{kiln_start_median:.2f} s, target < {TARGET_HEALTHY_SECONDS:.0f} s: "
        + _met(kiln_start_median < TARGET_HEALTHY_SECONDS),
    )
    report.ratio(
        "ratio.idle_rss",
        mlflow_rss / kiln_rss,
        f"MLflow MB / Kiln MB; Kiln {kiln_rss:.0f} MB, target < {TARGET_IDLE_MB:.0f} MB: "
        + _met(kiln_rss < TARGET_IDLE_MB),
    )
    if variant_rss is not None:
        report.ratio("ratio.idle_rss_vs_mlflow_nojobs", variant_rss / kiln_rss, "MLflow without job runner")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report("tracking")
    try:
        with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
            _run(args, report, Path(tmp))
    except BenchFailure as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    path = report.finish()
    report.note(f"results saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
