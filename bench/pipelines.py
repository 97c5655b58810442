"""Pipelines: Kiln against Prefect 3 and raw Dask, the same no-op flows side by side in one run.

``bash bench/run.sh pipelines`` (Prefect in its own venv, ``bench/pipelines_prefect_side.py``):

1. **Sequential chains** of 20 and 100 no-op steps, each handed the previous one's output, and a
   **fan-out** of 20 independent steps. Kiln: a ``kiln server`` on SQLite runs them on its
   in-process worker (the forkserver process pool); each run is timed from the request asking for
   it to its record reading finished (``bench/pipelines_kiln.py``). Prefect: flows in one process
   against a running ``prefect server``, timed around the flow call. Per step = (100-step run -
   20-step run) / 80; fixed cost per run = the 20-step run less 20 steps. Medians of ``--repeats``.
2. **Every step recorded the moment the run returns**: Kiln's step rows read through the API as soon
   as the run reads finished (each succeeded, with its finish time); Prefect's completed task runs
   read through its client as soon as the flow returns, and again a second later.
3. **The fan-out on a Dask LocalCluster** (2 worker processes): Kiln's dask executor
   (``KILN_PIPELINE_EXECUTOR=tcp://...``) against raw ``client.map`` on the same cluster; Prefect's
   DaskTaskRunner against raw ``client.map`` on a cluster of its own venv. Per task = run / 20.
4. **First run in a fresh process.** Kiln: a fresh server (its worker has never run a step, no
   fork server yet): asking for the first run to its finish. Prefect: a fresh python process
   running a 20-step flow, launch to exit, against the running server and in ephemeral mode.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import pipelines_prefect_side as prefect_side
from bench.kiln_login import Identity
from bench.pipeline_steps import chain, fan_out, noop
from bench.pipelines_kiln import KilnPipelines, RunTimes
from bench.pipelines_verdict import Figures, verdict
from bench.report import Report
from bench.servers import kiln_server

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"chain_20": 20, "chain_100": 100, "fan_out_20": 20}


def _python_path() -> str:
    """The checkout (for ``bench.pipeline_steps``) after the caller's ``PYTHONPATH``: run with
    ``PYTHONPATH=<checkout>/src``, the server imports that Kiln, not the bench venv's editable one
    (replacing ``PYTHONPATH`` with the checkout alone measured the venv's Kiln whatever was asked)."""
    return os.pathsep.join(part for part in (os.environ.get("PYTHONPATH", ""), str(ROOT)) if part)


def _kiln_env(**extra: str) -> dict[str, str]:
    return {
        "KILN_PIPELINE_MODULES": "bench.pipeline_steps",
        "PYTHONPATH": _python_path(),
        "KILN_LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def _kiln(home: Path, **extra: str) -> Iterator[tuple[KilnPipelines, float, Any]]:
    with kiln_server(home, **_kiln_env(**extra)) as (server, healthy):
        key = Identity(server.url, setup_token=server.setup_token()).api_key()
        kiln = KilnPipelines(server.url, key)
        try:
            yield kiln, healthy, server
        finally:
            kiln.close()


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _linear(report: Report, prefix: str, chain20: float, chain100: float) -> tuple[float, float]:
    per_step = (chain100 - chain20) / 80
    fixed = chain20 - 20 * per_step
    report.figure(f"{prefix}.per_step_ms", per_step * 1000, "ms")
    report.figure(f"{prefix}.fixed_per_run_ms", fixed * 1000, "ms")
    return per_step, fixed


def kiln_sequential(
    report: Report, tmp: Path, repeats: int, figures: Figures, *, module: bool = False
) -> None:
    """The chains and the fan-out; ``module``: the diagnostic variant under ``python -m uvicorn``,
    whose figures (``kiln_module.*``) are printed but judge no target."""
    prefix = "kiln_module" if module else "kiln"
    with _kiln(tmp / prefix, module=module) as (kiln, healthy, _server):
        report.figure(f"{prefix}.healthy_after_start_s", healthy, "s")
        for name, count in SHAPES.items():
            kiln.register(chain(count) if name.startswith("chain") else fan_out(count))
        first = kiln.run("chain_20", 20)
        report.figure(f"{prefix}.first_run.chain_20_s", first.wall_s, "s")
        figures.kiln_records.append((first.steps, first.expected))
        times: dict[str, list[RunTimes]] = {name: [] for name in SHAPES}
        for _ in range(repeats):
            for name, count in SHAPES.items():
                times[name].append(kiln.run(name, count))
        for name, runs in times.items():
            report.figure(f"{prefix}.{name}.run_s", _median([r.wall_s for r in runs]), "s")
            report.figure(f"{prefix}.{name}.server_s", _median([r.server_s for r in runs]), "s")
            figures.kiln_records.extend((r.steps, r.expected) for r in runs)
        per_step, fixed = _linear(
            report,
            prefix,
            _median([r.wall_s for r in times["chain_20"]]),
            _median([r.wall_s for r in times["chain_100"]]),
        )
        fan_out_ms = _median([r.wall_s for r in times["fan_out_20"]]) / 20 * 1000
        report.figure(f"{prefix}.fan_out_20.per_step_ms", fan_out_ms, "ms")
    if not module:
        figures.kiln_first_s = first.wall_s
        figures.kiln_per_step_s, figures.kiln_fixed_s = per_step, fixed


def kiln_dask(report: Report, tmp: Path, repeats: int, width: int, figures: Figures) -> None:
    from distributed import Client, LocalCluster

    os.environ["PYTHONPATH"] = _python_path()  # the Dask workers import the benchmark's step module
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        _kiln(
            tmp / "kiln-dask",
            KILN_PIPELINE_EXECUTOR=cluster.scheduler_address,
            KILN_PIPELINE_PROCESSES=str(width),
        ) as (kiln, _healthy, _server),
    ):
        kiln.register(fan_out(width))
        client.gather(client.map(noop, range(width), pure=False))
        kiln.run(f"fan_out_{width}", width)  # the workers have imported Kiln's step module once
        raw: list[float] = []
        kiln_runs: list[RunTimes] = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.gather(client.map(noop, range(width), pure=False))
            raw.append(time.perf_counter() - started)
            kiln_runs.append(kiln.run(f"fan_out_{width}", width))
        figures.raw_dask_per_task_s = _median(raw) / width
        figures.kiln_dask_per_task_s = _median([r.wall_s for r in kiln_runs]) / width
        figures.kiln_records.extend((r.steps, r.expected) for r in kiln_runs)
    report.figure("raw_dask.client_map.per_task_ms", figures.raw_dask_per_task_s * 1000, "ms")
    report.figure("kiln.dask_fan_out.per_task_ms", figures.kiln_dask_per_task_s * 1000, "ms")


def kiln_fresh_first_runs(report: Report, tmp: Path, starts: int, figures: Figures) -> None:
    """More first runs, each on a fresh server, for a median (the first was in ``kiln_sequential``)."""
    firsts = [figures.kiln_first_s]
    for index in range(starts):
        with _kiln(tmp / f"kiln-first-{index}") as (kiln, _healthy, _server):
            kiln.register(chain(20))
            result = kiln.run("chain_20", 20)
            firsts.append(result.wall_s)
            figures.kiln_records.append((result.steps, result.expected))
    figures.kiln_first_s = _median(firsts)
    report.figure(f"kiln.first_run.chain_20_s.median_of_{len(firsts)}", figures.kiln_first_s, "s")


def prefect(report: Report, tmp: Path, repeats: int, width: int, figures: Figures, skip_dask: bool) -> None:
    venv = prefect_side.venv()
    if venv is None:
        report.note("Prefect skipped: BENCH_PREFECT_VENV is not set (bash bench/run.sh pipelines sets it)")
        return
    ephemeral, ephemeral_wall = prefect_side.run(venv, tmp / "prefect-ephemeral", None, "first")
    report.figure("prefect.first_run.ephemeral_process_s", ephemeral_wall, "s")
    _prefect_records(figures, [ephemeral["chain_20"]])
    with prefect_side.prefect_server(tmp / "prefect-server", venv) as (server, healthy):
        report.figure("prefect.server_healthy_after_start_s", healthy, "s")
        api = f"{server.url}/api"
        first, first_wall = prefect_side.run(venv, tmp / "prefect-client", api, "first")
        report.figure("prefect.first_run.process_s", first_wall, "s")
        report.figure("prefect.first_run.flow_s", first["chain_20"]["wall_s"], "s")
        figures.prefect_first_s = first_wall
        _prefect_records(figures, [first["chain_20"]])
        warm, _ = prefect_side.run(venv, tmp / "prefect-client", api, "warm", "--repeats", str(repeats))
        for name in SHAPES:
            report.figure(f"prefect.{name}.run_s", _median([r["wall_s"] for r in warm[name]]), "s")
            _prefect_records(figures, warm[name])
        figures.prefect_per_step_s, figures.prefect_fixed_s = _linear(
            report,
            "prefect",
            _median([r["wall_s"] for r in warm["chain_20"]]),
            _median([r["wall_s"] for r in warm["chain_100"]]),
        )
        if not skip_dask:
            dask, _ = prefect_side.run(
                venv, tmp / "prefect-client", api, "dask", "--width", str(width), "--repeats", str(repeats)
            )
            figures.prefect_raw_dask_per_task_s = _median(dask["raw_dask_s"]) / width
            figures.prefect_dask_per_task_s = _median([r["wall_s"] for r in dask["prefect_dask"]]) / width
            report.figure(
                "prefect.raw_dask.client_map.per_task_ms", figures.prefect_raw_dask_per_task_s * 1000, "ms"
            )
            report.figure(
                "prefect.dask_task_runner.per_task_ms", figures.prefect_dask_per_task_s * 1000, "ms"
            )
            _prefect_records(figures, dask["prefect_dask"])


def _prefect_records(figures: Figures, runs: list[dict[str, Any]]) -> None:
    figures.prefect_records.extend((r["tasks_at_return"], r["expected"]) for r in runs)
    figures.prefect_records_later.extend((r["tasks_after_1s"], r["expected"]) for r in runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs of each flow; figures are medians")
    parser.add_argument("--width", type=int, default=20, help="steps of the fan-out on Dask")
    parser.add_argument(
        "--first-runs", type=int, default=2, help="extra fresh Kiln servers for the first run"
    )
    parser.add_argument("--skip-prefect", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument(
        "--skip-module-variant",
        action="store_true",
        help="skip the diagnostic run of Kiln under python -m uvicorn (no pool re-imports its main script)",
    )
    args = parser.parse_args(argv)
    report = Report("pipelines")
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="kiln-bench-pipelines-") as folder:
        tmp = Path(folder)
        kiln_sequential(report, tmp, args.repeats, figures)
        kiln_fresh_first_runs(report, tmp, args.first_runs, figures)
        if not args.skip_module_variant:
            kiln_sequential(report, tmp, args.repeats, figures, module=True)
        if not args.skip_dask:
            kiln_dask(report, tmp, args.repeats, args.width, figures)
        if not args.skip_prefect:
            prefect(report, tmp, args.repeats, args.width, figures, args.skip_dask)
    verdict(report, figures)
    print(f"# results: {report.finish()}", file=sys.stderr)


if __name__ == "__main__":
    main()
