"""Kiln's side of the pipelines benchmark: register the flows, run them, time them as a user would.

A run is timed from the request that asks for it to the moment its record reads finished, polled
every ``POLL_SECONDS`` on the light list route (no steps). The moment it does, the run is read once
with its steps: every step must be there, ``succeeded``, with its finish time, or the figure is not
counted (``StepRecords``). The server's own clock (queued -> finished) is kept beside the client's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bench.pipeline_steps import Pipeline

POLL_SECONDS = 0.005
PROJECT = "bench"


@dataclass(frozen=True)
class RunTimes:
    wall_s: float  # request to finished, as the client saw it
    server_s: float  # created_at -> finished_at on the server's clock
    steps: int  # step rows that were succeeded with a finish time the moment the run read finished
    expected: int


def _seconds(run: dict[str, Any]) -> float:
    created = datetime.fromisoformat(run["created_at"])
    finished = datetime.fromisoformat(run["finished_at"])
    return (finished - created).total_seconds()


class KilnPipelines:
    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.Client(
            base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=120
        )

    def close(self) -> None:
        self.client.close()

    def register(self, definition: Pipeline) -> int:
        spec = definition.spec()
        response = self.client.post(
            "/pipelines", json={"spec": spec.model_dump(mode="json"), "project": PROJECT}
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"could not register {spec.name}: {response.text[:300]}")
        return len(spec.steps)

    def run(self, name: str, expected: int, *, timeout: float = 600.0) -> RunTimes:
        started = time.perf_counter()
        response = self.client.post(f"/pipelines/{name}/runs", json={"parameters": {}, "project": PROJECT})
        if response.status_code != 201:
            raise RuntimeError(f"could not start {name}: {response.text[:300]}")
        run_id = response.json()["id"]
        deadline = started + timeout
        while True:
            listed = self.client.get(f"/pipelines/{name}/runs", params={"project": PROJECT, "limit": 5})
            listed.raise_for_status()
            mine = next((item for item in listed.json()["items"] if item["id"] == run_id), None)
            if mine is not None and mine["state"] in ("succeeded", "failed", "cancelled"):
                wall = time.perf_counter() - started
                break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{name} run {run_id} not finished after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        full = self.client.get(f"/pipelines/{name}/runs/{run_id}", params={"project": PROJECT})
        full.raise_for_status()
        run = full.json()
        if run["state"] != "succeeded":
            raise RuntimeError(f"{name} run {run_id} {run['state']}: {run.get('error')}")
        done = [s for s in run["steps"] if s["state"] == "succeeded" and s["finished_at"] is not None]
        return RunTimes(wall_s=wall, server_s=_seconds(run), steps=len(done), expected=expected)
