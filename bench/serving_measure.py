"""What the serving benchmark measures on every server, the same way: one target = one endpoint.

``prepare``, right after a server started: its answers are checked (status 200 and the model's own
predictions, for one row and for 1,000 rows), an untimed warm-up runs, and, for a server's first
target, idle memory is read once the process tree has settled. Then the timed runs, ``RUNS``, take
turns across all targets (run by run, so a change in the machine's load hits every server alike):
one row at 16 connections, one row at one connection, 1,000-row batches at ``BATCH_CONNECTIONS``.
Each turn starts with a short untimed run, since the server was paused (SIGSTOP) until then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
TURN_WARM_UP_S = 1.0
# (figure name, body, connections, per-request timeout in s)
RUNS: list[tuple[str, str, int, float]] = [
    ("single_c16", "single", SINGLE_CONNECTIONS, 10.0),
    ("single_c1", "single", 1, 10.0),
    (f"batch{BATCH_ROWS}_c{BATCH_CONNECTIONS}", "batch", BATCH_CONNECTIONS, 30.0),
]


@dataclass(frozen=True)
class Durations:
    warmup_s: float
    timed_s: float


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


@dataclass
class Measured:
    target: Target
    scripts: dict[str, Path]
    idle_rss_mb: float | None = None
    idle_processes: int | None = None
    loads: dict[str, Load] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.target.server.url + self.target.path

    @property
    def single(self) -> Load:
        return self.loads["single_c16"]

    @property
    def c1(self) -> Load:
        return self.loads["single_c1"]

    @property
    def batch(self) -> Load:
        return self.loads[RUNS[2][0]]

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
                    f"{target.label} answered {got[:5]}... for {rows} rows, not {expected[:5]}"
                )


def prepare(
    report: Report, target: Target, expected: list[int], durations: Durations, folder: Path
) -> Measured:
    server, name = target.server, target.name
    check_answers(target, expected)
    scripts = {
        "single": lua_script(folder, f"{name}-single", target.single, target.headers, SINGLE_CAP),
        "batch": lua_script(folder, f"{name}-batch", target.batch, target.headers, BATCH_CAP),
    }
    measured = Measured(target, scripts)
    for body, connections in (("single", SINGLE_CONNECTIONS), ("batch", BATCH_CONNECTIONS)):
        run_wrk(
            server,
            measured.url,
            scripts[body],
            connections=connections,
            seconds=durations.warmup_s,
            warm_up=True,
        )
    if target.healthy_s is not None:
        report.figure(f"{name}.healthy_after_start_s", target.healthy_s, "s")
        report.figure(f"{name}.startup_cpu_s", server.startup_cpu_s, "s")
        settled = server.wait_settled(20, window=1.0)
        measured.idle_rss_mb, measured.idle_processes = server.rss_bytes() / MB, len(server.tree())
        report.figure(f"{name}.idle_rss_mb", measured.idle_rss_mb, "MB")
        report.figure(f"{name}.idle_processes", measured.idle_processes, "processes")
        if not settled.settled:
            report.note(f"{target.label}: CPU use did not settle in 20 s ({settled.cpu_cores:.2f} cores)")
    return measured


def turn(report: Report, measured: Measured, run: tuple[str, str, int, float], durations: Durations) -> Load:
    """One timed run on one target, its server continued for it and paused again afterwards."""
    kind, body, connections, timeout_s = run
    server, name, script = measured.target.server, measured.target.name, measured.scripts[body]
    server.resume()
    try:
        run_wrk(server, measured.url, script, connections=connections, seconds=TURN_WARM_UP_S, warm_up=True)
        load = run_wrk(
            server,
            measured.url,
            script,
            connections=connections,
            seconds=durations.timed_s,
            timeout_s=timeout_s,
        )
    finally:
        server.pause()
    measured.loads[kind] = load
    if body == "batch":
        report.figure(f"{name}.{kind}_rows_per_s", load.per_second * BATCH_ROWS, "rows/s")
    else:
        report.figure(f"{name}.{kind}_rps", load.per_second, "req/s")
    report.figure(f"{name}.{kind}_p50_ms", load.p50_ms, "ms")
    report.figure(f"{name}.{kind}_p99_ms", load.p99_ms, "ms")
    report.figure(f"{name}.{kind}_server_cpu_ms", load.server_cpu_ms, "ms/req")
    return load
