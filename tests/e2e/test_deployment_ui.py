"""In Chromium: a deployment's page shows its traffic charts, its try-it form answers a prediction,
nothing breaks the content security policy, and the page fits a phone."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from kiln.app import kiln_state
from tests.builders.deployments import refresh
from tests.builders.registry_lifecycle import build_model
from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.test_content_security_policy import RECORD_VIOLATIONS, violations
from tests.e2e.test_tracking_ui import OVERFLOWING

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("signed_in")]

# Plotly's bundle (3.5 MB) parses in seconds on a busy 2-core machine: wait for the first drawing.
CHART_TIMEOUT_MS = 20_000


def test_try_a_deployment_from_its_page(
    page: Page, app: FastAPI, live_server: LiveServer, api_token: str, screenshots: Path
) -> None:
    [version] = build_model(app, name="fraud_detector")
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {api_token}"}
    ) as api:
        deployed = api.put("/deployments/fraud-api", json={"model": version.model, "version": 1})
        assert deployed.status_code == 201, deployed.text
        refresh(app)  # what the cache's thread does every second (the live server runs no lifespan)
        answered = api.post("/deployments/fraud-api/predict", json={"inputs": [{"amount": 10, "age": 50}]})
        assert answered.status_code == 200, answered.text
    kiln_state(app).prediction_logger.flush()
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{live_server.url}/deployments")
    page.get_by_role("link", name="fraud-api").click()
    expect(page.locator("#deployment-health")).to_contain_text("ready")
    expect(page.locator("#chart-latency .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    page.get_by_label("amount").fill("90")
    page.get_by_label("age").fill("25")
    page.get_by_role("button", name="Predict").click()

    expect(page.locator("#try-prediction")).to_have_text("1")
    expect(page.locator("#try-answer")).to_contain_text("fraud_detector v1")
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "deployment-tried.png"), full_page=True)

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#chart-rate .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a phone: {page.evaluate(OVERFLOWING)}"
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "phone-deployment.png"), full_page=True)
