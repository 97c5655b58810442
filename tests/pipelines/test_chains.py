"""A chain of steps (each waiting only for the one before) runs back to back in one step process;
every step is still recorded on its own, and failures, retries and skips behave as anywhere else."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import API
from tests.builders.pipelines import read_run, register, run_jobs, start_run, steps_by_name

LINKS = ["link"] + [f"link_{number}" for number in range(2, 9)]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _chain(client: TestClient, app: FastAPI, **parameters: Any) -> dict[str, Any]:
    register(client, examples.chained)
    run = start_run(client, "chained", **parameters)
    assert run_jobs(app) == 1
    return read_run(client, "chained", run["id"])


def _log(client: TestClient, run_id: str, step: str) -> list[str]:
    response = client.get(f"{API}/pipelines/chained/runs/{run_id}/logs", params={"step": step})
    assert response.status_code == 200, response.text
    lines: list[str] = response.json()[0]["lines"]
    return lines


class TestChains:
    def test_every_step_of_a_chain_is_recorded_in_order(self, app: FastAPI, client: TestClient) -> None:
        done = _chain(client, app)
        assert done["state"] == "succeeded", done
        steps = steps_by_name(done)
        assert [step["name"] for step in done["steps"]] == LINKS
        for position, name in enumerate(LINKS):
            step = steps[name]
            assert step["state"] == "succeeded"
            assert step["attempts"] == 1
            assert step["wall_seconds"] is not None
            assert step["cpu_seconds"] is not None
            assert step["peak_memory_bytes"] > 0
            assert step["output"]["format"] == "json"
            # Each step got the one before's output (it checks) and logged it.
            got = "None" if position == 0 else str(position - 1)
            assert any(
                line.endswith(f"INFO link {position} got {got}") for line in _log(client, done["id"], name)
            )
        # One after another, never overlapping.
        for before, after in pairwise(steps[name] for name in LINKS):
            assert _time(before["started_at"]) <= _time(before["finished_at"]) <= _time(after["started_at"])

    def test_a_failure_mid_chain_stops_it_and_skips_the_rest(self, app: FastAPI, client: TestClient) -> None:
        done = _chain(client, app, fail_at=3)
        assert done["state"] == "failed"
        assert done["error"] == "step link_4 failed: RuntimeError: link 3 broke"
        steps = steps_by_name(done)
        assert [steps[name]["state"] for name in LINKS[:3]] == ["succeeded"] * 3
        assert steps["link_4"]["state"] == "failed"
        assert steps["link_4"]["attempts"] == 2  # its retry ran, and failed too
        for name in LINKS[4:]:
            assert steps[name]["state"] == "skipped"
            assert steps[name]["attempts"] == 0
            assert steps[name]["started_at"] is None

    def test_a_step_retried_mid_chain_lets_the_chain_go_on(
        self, app: FastAPI, client: TestClient, tmp_path: Path
    ) -> None:
        done = _chain(client, app, flaky_at=3, marker=str(tmp_path / "failed-once"))
        assert done["state"] == "succeeded", done
        steps = steps_by_name(done)
        assert steps["link_4"]["attempts"] == 2
        assert all(steps[name]["attempts"] == 1 for name in LINKS if name != "link_4")
        assert all(step["state"] == "succeeded" for step in done["steps"])
        lines = _log(client, done["id"], "link_4")
        assert any("[attempt 1]" in line and "RuntimeError: link 3 fails once" in line for line in lines)
        assert any("attempt 1 failed; retrying" in line for line in lines)
        assert any(line.startswith("[attempt 2]") and line.endswith("INFO link 3 got 2") for line in lines)
        for before, after in pairwise(steps[name] for name in LINKS):
            assert _time(before["finished_at"]) <= _time(after["started_at"])

    def test_a_step_past_its_timeout_mid_chain_fails_and_skips_the_rest(
        self, app: FastAPI, client: TestClient
    ) -> None:
        register(client, examples.hanging_in_chain)
        run = start_run(client, "hanging_in_chain")
        assert run_jobs(app) == 1
        done = read_run(client, "hanging_in_chain", run["id"])
        assert done["state"] == "failed"
        assert done["error"] == (
            "step stuck_after failed: TimeoutError: step stuck_after ran longer than its timeout of 1 s"
        )
        steps = steps_by_name(done)
        assert steps["link"]["state"] == "succeeded"
        assert steps["stuck_after"]["state"] == "failed"
        assert steps["stuck_after"]["wall_seconds"] >= 1.0
        assert steps["after_failure"]["state"] == "skipped"
        assert steps["after_failure"]["attempts"] == 0
