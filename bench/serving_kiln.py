"""Kiln as the serving benchmark runs it: ``kiln server`` on SQLite and the local store, one process.

A first start on a fresh home sets it up as a user would, over the API: the first account, a project
``bench`` and an ``ml_engineer`` API key for it, the model registered with the SDK
(``kiln.register_model``) and a **private** deployment of it (``PUT /api/v1/deployments/{name}``).
That server is stopped, and the one that is measured is started on the same home: its start-to-healthy
time runs until the deployment answers ``GET .../ready`` with 200 (model loaded, verified and
warmed up), with the API key. Every prediction carries the key (authentication on), and the
prediction log is on (its default: every request recorded, written to SQLite by a background thread).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.kiln_login import Identity
from bench.servers import Server, bench_env, free_port, kiln_command
from bench.serving_model import DEPLOYMENT, MODEL_NAME, Trained
from bench.serving_servers import running
from bench.workload import BenchFailure

PREDICT_PATH = f"/api/v1/deployments/{DEPLOYMENT}/predict"
READY_PATH = f"/api/v1/deployments/{DEPLOYMENT}/ready"
OIP_METADATA_PATH = f"/v2/models/{DEPLOYMENT}"
OIP_INFER_PATH = f"/v2/models/{DEPLOYMENT}/infer"


@dataclass(frozen=True)
class KilnServing:
    server: Server
    healthy_s: float  # process start to the deployment answering ready
    headers: dict[str, str]  # the API key
    oip_metadata: dict[str, Any] | None  # None: this checkout has no Open Inference Protocol routes


def kiln_env(home: Path) -> dict[str, str]:
    # Throughput is measured, not the per-identity API rate limit (default 1200/minute).
    env = bench_env(KILN_HOME=str(home), KILN_RATE_LIMIT="1000000000/minute")
    for name in ("KILN_DATABASE_URL", "KILN_ARTIFACT_ROOT", "KILN_TOKEN", "KILN_TRACKING_URI"):
        env.pop(name, None)
    return env


def _ok(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code not in (200, 201):
        raise BenchFailure(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response


def set_up(server: Server, trained: Trained) -> str:
    """Account, project key, registered model, private deployment, loaded: the API key."""
    import kiln

    key = Identity(server.url, setup_token=server.setup_token()).api_key("bench")
    with kiln.Client(server.url, token=key, timeout=120) as client:
        version = kiln.register_model(trained.model, MODEL_NAME, X=trained.X, project="bench", client=client)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        spec = {"model": MODEL_NAME, "version": version.number, "public": False, "project": "bench"}
        _ok(http.put(f"/api/v1/deployments/{DEPLOYMENT}", json=spec), "deploy")
        deadline = time.perf_counter() + 120
        while http.get(READY_PATH).status_code != 200:
            if time.perf_counter() > deadline:
                raise BenchFailure(f"the deployment was not ready in 120 s:\n{server.log_tail()}")
            time.sleep(0.1)
    return key


def oip_metadata(server: Server, headers: dict[str, str]) -> dict[str, Any] | None:
    """The deployment's Open Inference Protocol metadata, or None when the route answers 404."""
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        response = http.get(OIP_METADATA_PATH)
    if response.status_code == 404:
        return None
    metadata: dict[str, Any] = _ok(response, "OIP model metadata").json()
    return metadata


@contextmanager
def kiln_serving(
    home: Path, trained: Trained, *, health_timeout: float = 120.0, process: str = "server"
) -> Iterator[KilnServing]:
    """Set up on a first ``kiln server``, then start the measured process on the same home: ``kiln
    server`` again, or with ``process="serve"`` the serving-only ``kiln serve``."""
    env = kiln_env(home)
    port = free_port()
    with running("kiln-setup", kiln_command(port), "/healthz", home / "setup", env, port=port, cwd=home) as (
        first,
        _,
    ):
        key = set_up(first, trained)
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    command = kiln_command(port)
    if process == "serve" and command[1:2] == ["server"]:
        command[1] = "serve"
    with running(
        "kiln",
        command,
        READY_PATH,
        home / "measured",
        env,
        port=port,
        cwd=home,
        health_timeout=health_timeout,
        health_headers=headers,
    ) as (server, healthy_s):
        yield KilnServing(server, healthy_s, headers, oip_metadata(server, headers))


def prediction_log_counts(serving: KilnServing) -> dict[str, float]:
    """The prediction log's written and dropped totals, from the measured process's ``/metrics``:
    under sustained 1,000-row batches the log keeps what the database takes and drops the rest."""
    with httpx.Client(base_url=serving.server.url, headers=serving.headers, timeout=30) as http:
        text = _ok(http.get("/metrics"), "metrics").text
    counts = {}
    for line in text.splitlines():
        for name in ("written", "dropped"):
            if line.startswith(f"kiln_prediction_log_{name}_total "):
                counts[name] = float(line.split()[1])
    return counts
