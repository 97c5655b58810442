"""In Chromium: a deployment's monitoring page draws its charts, then takes in a newly computed
window through its live refresh without a reload, within the content security policy; the
overview, with its side-by-side charts, fits a phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from kiln.core.ids import utcnow
from kiln.monitoring.windows import window_start
from tests.builders.alerts import add_windows
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.registry_lifecycle import build_model
from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.test_content_security_policy import RECORD_VIOLATIONS, violations
from tests.e2e.test_tracking_ui import OVERFLOWING

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("signed_in")]

# Plotly's bundle parses in seconds on a busy 2-core machine; the page refreshes every 5 s.
CHART_TIMEOUT_MS = 20_000
LIVE_TIMEOUT_MS = 20_000


def test_the_monitoring_page_draws_charts_and_updates_live(
    page: Page, app: FastAPI, live_server: LiveServer, api_token: str, screenshots: Path
) -> None:
    [version] = build_model(app, name="fraud_detector", metrics=[{"training_accuracy": 0.93}])
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {api_token}"}
    ) as api:
        deployed = api.put("/deployments/fraud-api", json={"model": version.model, "version": 1})
        assert deployed.status_code == 201, deployed.text
    db, project = database(app), default_project_id(app)
    minute = timedelta(minutes=1)
    first = window_start(utcnow() - timedelta(minutes=30), 60)
    for metric, value in (("requests", 12.0), ("latency_p99", 40.0), ("error_rate", 0.0), ("accuracy", 0.88)):
        add_windows(db, project, "fraud-api", metric, {first: value, first + minute: value})
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{live_server.url}/monitoring")
    page.get_by_role("link", name="fraud-api").click()
    page.get_by_role("link", name="per minute, last 3 hours").click()
    expect(page.locator("#chart-volume .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    expect(page.locator("#chart-quality .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    expect(page.locator("#chart-quality")).to_contain_text("accuracy at training")
    requests = page.locator('[data-live-key="latest:requests"]')
    expect(requests).to_have_text("12")

    # The tick computes the next minute: the page shows it without being reloaded.
    add_windows(db, project, "fraud-api", "requests", {first + 2 * minute: 77.0})
    page.evaluate("window.kilnMarker = 'same page'")
    expect(requests).to_have_text("77", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.kilnMarker") == "same page"
    # The chart is redrawn with the new window (Plotly keeps the drawn traces on the element).
    page.wait_for_function("document.getElementById('chart-volume').data[0].y.includes(77)")
    expect(page.locator("#live-status")).to_contain_text("last updated")
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "monitoring-deployment.png"), full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/monitoring?window=1m")
    expect(page.locator('[data-live-key="fraud-api:requests"]')).to_have_text("77")
    # The side-by-side charts draw one line per deployment, within the phone's width too.
    expect(page.locator("#chart-compare-requests .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    page.wait_for_function("document.getElementById('chart-compare-requests').data[0].name === 'fraud-api'")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a phone: {page.evaluate(OVERFLOWING)}"
    page.screenshot(path=str(screenshots / "phone-monitoring.png"), full_page=True)
