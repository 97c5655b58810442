"""In Chromium: a deployment's monitoring page draws its stored drift reports (each feature's PSI
over time with the dashed threshold, and a reference-vs-current bar chart), and a report's page
draws a histogram per feature, within the content security policy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from kiln.app import kiln_state
from kiln.core.ids import utcnow
from kiln.monitoring.drift_reports import compute_drift_report
from kiln.monitoring.windows import window_start
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.drift import like_training, log_served
from tests.builders.registry_lifecycle import build_model
from tests.e2e.conftest import LiveServer
from tests.e2e.test_content_security_policy import RECORD_VIOLATIONS, violations

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("signed_in")]

CHART_TIMEOUT_MS = 20_000


def test_stored_drift_is_charted_on_the_deployment_and_report_pages(
    page: Page, app: FastAPI, live_server: LiveServer, api_token: str, screenshots: Path
) -> None:
    [version] = build_model(app)
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {api_token}"}
    ) as api:
        deployed = api.put("/deployments/fraud", json={"model": version.model, "version": 1})
        assert deployed.status_code == 201, deployed.text
    hour = window_start(utcnow() - timedelta(hours=3), 3_600)
    shifted = like_training(300, seed=2)
    shifted["amount"] = shifted["amount"] * 3
    log_served(app, version.id, like_training(300, seed=1), start=hour)
    log_served(app, version.id, shifted, start=hour + timedelta(hours=1))
    with database(app).unit_of_work() as session:
        for start in (hour, hour + timedelta(hours=1)):
            compute_drift_report(
                session,
                kiln_state(app).store,
                project_id=default_project_id(app),
                deployment="fraud",
                seconds=3_600,
                start=start,
            )
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{live_server.url}/monitoring/deployments/fraud")
    page.locator("#stored-drift").scroll_into_view_if_needed()
    expect(page.locator("#chart-drift-scores .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    # Plotly keeps the drawn traces on the element: the threshold is dashed, amount is emphasised.
    page.wait_for_function(
        "document.getElementById('chart-drift-scores').data.some(t => t.line && t.line.dash === 'dash')"
    )
    assert page.evaluate("document.getElementById('chart-drift-scores').data[0].name") == "amount"
    expect(page.locator("#chart-histogram-0 .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    assert page.evaluate("document.getElementById('chart-histogram-0').data.map(t => t.type)") == [
        "bar",
        "bar",
    ]
    page.screenshot(path=str(screenshots / "monitoring-drift.png"), full_page=True)

    page.locator("#drift-reports a").first.click()
    expect(page.locator("h1")).to_have_text("Drift of fraud")
    page.locator("#histogram-1").scroll_into_view_if_needed()
    expect(page.locator("#chart-histogram-1 .main-svg").first).to_be_visible(timeout=CHART_TIMEOUT_MS)
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "monitoring-drift-report.png"), full_page=True)
