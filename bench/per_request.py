"""Per-request figures: latency (p50, p95) and server CPU per request, one request at a time.

Every server gets the same four requests over plain HTTP (httpx, one keep-alive connection), so the
client's cost is the same on every side and the figures are about the server's request path:

- ``healthz``: the health endpoint, the floor of the HTTP stack;
- ``get_run``: read one run, authenticated (Kiln: with an API key);
- ``create_run``: create a run in an experiment;
- ``batch_one_metric``: a batch carrying one metric point.

Kiln's requests carry an API key (``Authorization: Bearer kiln_...``), so they include the key lookup
and the access check; MLflow and FastTrackML run without authentication, their default.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.servers import Server
from bench.workload import BenchFailure, Deadline

ENDPOINTS = ("healthz", "get_run", "create_run", "batch_one_metric")
WARM_UP = 10  # untimed requests per endpoint first: connection, caches, the first statements prepared
IDLE_WINDOW_S = 2.0

# One request: (client, index) -> response. Built per server by the ``*_requests`` functions.
Call = Callable[[httpx.Client, int], httpx.Response]


@dataclass(frozen=True)
class RequestFigures:
    latencies_s: list[float]
    server_cpu_s: float  # of the whole server tree over the timed requests, idle use subtracted

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_s) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies_s, n=20, method="inclusive")[18] * 1000

    @property
    def server_cpu_ms(self) -> float:
        return self.server_cpu_s / len(self.latencies_s) * 1000


def _ok(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code not in (200, 201):
        raise BenchFailure(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response


def kiln_requests(client: httpx.Client, api_key: str) -> dict[str, Call]:
    client.headers["Authorization"] = f"Bearer {api_key}"
    experiment = _ok(client.post("/api/v1/experiments", json={"name": "bench-requests"}), "kiln experiment")
    experiment_id = experiment.json()["id"]
    run_id = _ok(client.post("/api/v1/runs", json={"experiment_id": experiment_id}), "kiln run").json()["id"]
    now = int(time.time() * 1000)
    return {
        "healthz": lambda c, _: c.get("/healthz"),
        "get_run": lambda c, _: c.get(f"/api/v1/runs/{run_id}"),
        "create_run": lambda c, _: c.post("/api/v1/runs", json={"experiment_id": experiment_id}),
        "batch_one_metric": lambda c, i: c.post(
            f"/api/v1/runs/{run_id}/batch",
            json={"metrics": [{"key": "loss", "value": 1.0 / (i + 1), "step": i, "timestamp": now}]},
        ),
    }


def mlflow_requests(client: httpx.Client) -> dict[str, Call]:
    """MLflow's REST API (2.0), which MLflow's server and FastTrackML both speak."""
    api = "/api/2.0/mlflow"
    created = _ok(client.post(f"{api}/experiments/create", json={"name": "bench-requests"}), "experiment")
    experiment_id = created.json()["experiment_id"]
    now = int(time.time() * 1000)
    run_body = {"experiment_id": experiment_id, "start_time": now}
    run_id = _ok(client.post(f"{api}/runs/create", json=run_body), "run").json()["run"]["info"]["run_id"]
    return {
        "healthz": lambda c, _: c.get("/health"),
        "get_run": lambda c, _: c.get(f"{api}/runs/get", params={"run_id": run_id}),
        "create_run": lambda c, _: c.post(f"{api}/runs/create", json=run_body),
        "batch_one_metric": lambda c, i: c.post(
            f"{api}/runs/log-batch",
            json={
                "run_id": run_id,
                "metrics": [{"key": "loss", "value": 1.0 / (i + 1), "step": i, "timestamp": now}],
            },
        ),
    }


def idle_cpu_cores(server: Server, window: float = IDLE_WINDOW_S) -> float:
    """The server tree's CPU use while nothing is sent, in cores (MLflow's job runner polls all the time)."""
    before = server.cpu_seconds()
    time.sleep(window)
    return max(0.0, (server.cpu_seconds() - before) / window)


def measure(
    server: Server,
    client: httpx.Client,
    call: Call,
    *,
    what: str,
    count: int,
    idle_cores: float,
    limit: float,
) -> RequestFigures:
    """``count`` requests one after the other, after ``WARM_UP`` untimed ones."""
    deadline = Deadline(what, limit)
    for index in range(WARM_UP):
        _ok(call(client, index), what)
    latencies: list[float] = []
    cpu_before = server.cpu_seconds()
    began = time.perf_counter()
    for index in range(WARM_UP, WARM_UP + count):
        started = time.perf_counter()
        response = call(client, index)
        latencies.append(time.perf_counter() - started)
        _ok(response, what)
        deadline.check()
    elapsed = time.perf_counter() - began
    cpu = server.cpu_seconds() - cpu_before - idle_cores * elapsed
    return RequestFigures(latencies, max(0.0, cpu))
