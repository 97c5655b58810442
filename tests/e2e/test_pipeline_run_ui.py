"""In Chromium: a running pipeline run's page follows the run without a reload (states, the DAG's
colours, the timeline) and stops polling when it ends; the DAG of a 100-step chain
and of a 20-wide fan-out stays inside a phone's width (it scrolls inside its box)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from kiln.app import kiln_state
from kiln.jobs.worker import Worker
from kiln.pipelines.runs import RUN_JOB
from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.test_content_security_policy import RECORD_VIOLATIONS, violations
from tests.e2e.test_tracking_ui import OVERFLOWING

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("signed_in")]

# The page polls every 2 s; a step process starts in a second or two, far longer on a loaded machine.
LIVE_TIMEOUT_MS = 90_000


def api_client(live_server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {token}"})


def created(response: httpx.Response) -> Any:
    assert response.status_code == 201, response.text
    return response.json()


def test_a_running_run_page_follows_the_run_without_a_reload(
    page: Page, app: FastAPI, live_server: LiveServer, api_token: str, tmp_path: Path, screenshots: Path
) -> None:
    release = tmp_path / "release"
    with api_client(live_server, api_token) as api:
        created(api.post("/pipelines", json={"spec": examples.resumable.spec().model_dump(mode="json")}))
        run = created(
            api.post(
                "/pipelines/resumable/runs",
                json={"parameters": {"marker": str(tmp_path / "calls"), "release": str(release)}},
            )
        )
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/pipelines/resumable/runs/{run['id']}")
    state = page.locator('[data-live-fragment="run-state"] [data-state]')
    waiting = page.locator('.dag__node[data-node="wait_for_file"]')
    expect(state).to_have_attribute("data-state", "queued")
    expect(waiting).to_have_attribute("data-state", "pending")
    page.evaluate("window.kilnMarker = 'same page'")

    worker = Worker(kiln_state(app).db, kinds=[RUN_JOB], lease_seconds=5, poll_seconds=0.1)
    worker.start()
    try:
        # The first step ran and the second waits for the file: the page shows it as it happens.
        expect(state).to_have_attribute("data-state", "running", timeout=LIVE_TIMEOUT_MS)
        expect(waiting).to_have_attribute("data-state", "running", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator('.dag__node[data-node="count_call"]')).to_have_attribute(
            "data-state", "succeeded"
        )
        expect(page.locator('#run-timeline [data-bar="count_call"]')).to_be_attached()
        release.write_text("go")
        expect(state).to_have_attribute("data-state", "succeeded", timeout=LIVE_TIMEOUT_MS)
    finally:
        worker.stop(grace_seconds=5)
    expect(waiting).to_have_attribute("data-state", "succeeded")
    expect(page.locator('#steps-table tr[data-step="wait_for_file"] [data-state]')).to_have_text("succeeded")
    expect(page.locator("#live-status")).to_have_text("The run has succeeded; the page no longer updates.")
    assert page.evaluate("window.kilnMarker") == "same page"
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "pipeline-run.png"), full_page=True)


def _step(name: str, *needs: str) -> dict[str, Any]:
    inputs = {"seconds": {"value": 0}, "tag": {"value": name}}
    return {
        "name": name,
        "function": "examples.pipelines:wait_a_moment",
        "needs": list(needs),
        "inputs": inputs,
    }


def test_big_graphs_fit_a_phone(
    page: Page, live_server: LiveServer, api_token: str, screenshots: Path
) -> None:
    chain = [_step("step_0"), *(_step(f"step_{i}", f"step_{i - 1}") for i in range(1, 100))]
    fan = [_step("split"), *(_step(f"part_{i}", "split") for i in range(20))]
    fan.append(_step("join", *(f"part_{i}" for i in range(20))))
    with api_client(live_server, api_token) as api:
        for name, steps in (("chain", chain), ("fan", fan)):
            created(api.post("/pipelines", json={"spec": {"name": name, "steps": steps}}))
        run = created(api.post("/pipelines/chain/runs", json={"parameters": {}}))
    page.set_viewport_size(PHONE)
    for name, path in (
        ("chain", "/pipelines/chain"),
        ("fan", "/pipelines/fan"),
        ("chain-run", f"/pipelines/chain/runs/{run['id']}"),
    ):
        page.goto(live_server.url + path)
        expect(page.locator(".dag .dag__node")).to_have_count(100 if "chain" in name else 22)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width}px wide on a phone: {page.evaluate(OVERFLOWING)}"
        box = page.locator(".dag__scroll").bounding_box()
        assert box is not None
        assert box["width"] <= PHONE["width"]
        page.screenshot(path=str(screenshots / f"phone-pipeline-{name}.png"))
