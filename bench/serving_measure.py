"""What the serving benchmark measures on every server, the same way: one target = one endpoint.

For each target: its answers are checked first (status 200 and the model's own predictions, one row
and 1,000 rows); then an untimed warm-up; then, for a server's first target, idle memory once the
process tree has settled; then three timed wrk runs: one row at 16 connections, one row at one
connection, 1,000-row batches at ``BATCH_CONNECTIONS``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.report import Report
from bench.servers import Server
from bench.serving_load import Load, lua_script, run_wrk
from bench.serving_model import BATCH_ROWS
from bench.workload import BenchFailure

MB = 1024 * 1024
SINGLE_CONNECTIONS = 16
BATCH_CONNECTIONS = 4
# Request caps per run (each run is also bounded by its duration): far above what the durations allow
# on this machine, so the duration is what ends a run, and the cap is the backstop.
SINGLE_CAP = 1_000_000
BATCH_CAP = 20_000


@dataclass(frozen=True)
class Durations:
    warmup_s: float
    single_s: float
    c1_s: float
    batch_s: float


@dataclass
class Target:
    name: str  # figure prefix: kiln, kiln_oip, mlflow, ...
    label: str
    server: Server
    path: str
    single: bytes
    batch: bytes
    headers: dict[str, str]
    # The predicted classes in an answer; None for the ceiling, which answers a constant.
    answers: Callable[[Any], list[Any]] | None
    healthy_s: float | None  # None: a second endpoint of a server already measured
    peer: bool = True  # counted among the peers Kiln is compared with


@dataclass(frozen=True)
class Measured:
    target: Target
    single: Load
    c1: Load
    batch: Load
    idle_rss_mb: float | None
    idle_processes: int | None
    rss_after_mb: float

    @property
    def batch_rows_per_s(self) -> float:
        return self.batch.per_second * BATCH_ROWS


def check_answers(target: Target, expected: list[int]) -> None:
    """One row and a full batch, each answered 200 with the model's predictions."""
    headers = {"Content-Type": "application/json", **target.headers}
    with httpx.Client(base_url=target.server.url, headers=headers, timeout=60) as client:
        for body, rows in ((target.single, 1), (target.batch, BATCH_ROWS)):
            response = client.post(target.path, content=body)
            if response.status_code != 200:
                raise BenchFailure(f"{target.label}: HTTP {response.status_code}: {response.text[:300]}")
            if target.answers is None:
                continue
            got = [int(value) for value in target.answers(response.json())]
            if got != expected[:rows]:
                raise BenchFailure(
                    f"{target.label} answered {got[:5]}... for {rows} rows, not {expected[:5]}..."
                )


def measure(report: Report, target: Target, expected: list[int], durations: Durations) -> Measured:
    server, name = target.server, target.name
    check_answers(target, expected)
    url = server.url + target.path
    with tempfile.TemporaryDirectory(prefix="kiln-serving-wrk-") as scratch:
        folder = Path(scratch)
        single = lua_script(folder, "single", target.single, target.headers, SINGLE_CAP)
        batch = lua_script(folder, "batch", target.batch, target.headers, BATCH_CAP)
        run_wrk(server, url, single, connections=SINGLE_CONNECTIONS, seconds=durations.warmup_s, warm_up=True)
        run_wrk(server, url, batch, connections=BATCH_CONNECTIONS, seconds=durations.warmup_s, warm_up=True)
        idle_mb: float | None = None
        processes: int | None = None
        if target.healthy_s is not None:
            report.figure(f"{name}.healthy_after_start_s", target.healthy_s, "s")
            report.figure(f"{name}.startup_cpu_s", server.startup_cpu_s, "s")
            settled = server.wait_settled(20, window=1.0)
            idle_mb, processes = server.rss_bytes() / MB, len(server.tree())
            report.figure(f"{name}.idle_rss_mb", idle_mb, "MB")
            report.figure(f"{name}.idle_processes", processes, "processes")
            if not settled.settled:
                report.note(f"{target.label}: CPU use did not settle in 20 s ({settled.cpu_cores:.2f} cores)")
        c16 = run_wrk(server, url, single, connections=SINGLE_CONNECTIONS, seconds=durations.single_s)
        report.figure(f"{name}.single_c16_rps", c16.per_second, "req/s")
        report.figure(f"{name}.single_c16_p50_ms", c16.p50_ms, "ms")
        report.figure(f"{name}.single_c16_p99_ms", c16.p99_ms, "ms")
        report.figure(f"{name}.single_c16_server_cpu_ms", c16.server_cpu_ms, "ms/req")
        c1 = run_wrk(server, url, single, connections=1, seconds=durations.c1_s)
        report.figure(f"{name}.single_c1_rps", c1.per_second, "req/s")
        report.figure(f"{name}.single_c1_p50_ms", c1.p50_ms, "ms")
        report.figure(f"{name}.single_c1_p99_ms", c1.p99_ms, "ms")
        rows = run_wrk(
            server, url, batch, connections=BATCH_CONNECTIONS, seconds=durations.batch_s, timeout_s=30
        )
        report.figure(
            f"{name}.batch{BATCH_ROWS}_c{BATCH_CONNECTIONS}_rows_per_s",
            rows.per_second * BATCH_ROWS,
            "rows/s",
        )
        report.figure(f"{name}.batch{BATCH_ROWS}_c{BATCH_CONNECTIONS}_p50_ms", rows.p50_ms, "ms")
        report.figure(
            f"{name}.batch{BATCH_ROWS}_c{BATCH_CONNECTIONS}_server_cpu_ms", rows.server_cpu_ms, "ms/req"
        )
    after = server.rss_bytes() / MB
    report.figure(f"{name}.rss_after_load_mb", after, "MB")
    return Measured(target, c16, c1, rows, idle_mb, processes, after)
