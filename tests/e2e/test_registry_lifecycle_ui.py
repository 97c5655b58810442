"""In Chromium: an engineer promotes a version and asks for production on the model's pages; a second
engineer approves it in the approvals inbox; the model page then shows it in production, the old
production version archived, and every change on the stage-history timeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from kiln.auth.permissions import Role
from tests.builders.auth import Account, make_member, open_session
from tests.builders.registry_lifecycle import build_model
from tests.e2e.conftest import LiveServer
from tests.registry.lifecycle_api import Person, person, to_production

pytestmark = pytest.mark.e2e


def _sign_in(page: Page, app: FastAPI, live_server: LiveServer, account: Account) -> None:
    pair = open_session(app, account)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {"name": "kiln_access", "value": pair.access_token, "url": live_server.url, "httpOnly": True},
            {"name": "kiln_refresh", "value": pair.refresh_token, "url": live_server.url, "httpOnly": True},
        ]
    )


def test_request_production_then_another_engineer_approves_it(
    page: Page, app: FastAPI, live_server: LiveServer, screenshots: Path
) -> None:
    requester = make_member(app, Role.ml_engineer)
    approver = make_member(app, Role.ml_engineer)
    [first, _] = build_model(app, versions=2, name="fraud_detector")
    # Version 1 went to production earlier (through the API, by two other engineers).
    earlier: list[Person] = [person(app, Role.ml_engineer), person(app, Role.ml_engineer)]
    to_production(earlier[0].client, earlier[1].client, first.model, 1)

    _sign_in(page, app, live_server, requester)
    page.goto(f"{live_server.url}/models/fraud_detector")
    expect(page.locator("#production-version")).to_contain_text("version 1")
    page.locator("#versions-table").get_by_role("link", name="2", exact=True).click()
    expect(page.locator("#version-stage")).to_have_text("development")
    page.get_by_role("button", name="Promote to staging").click()
    expect(page.get_by_role("status")).to_contain_text("passed its gates")
    expect(page.locator("#version-stage")).to_have_text("staging")

    page.locator("#request-production summary").click()
    page.get_by_label("Risk level").select_option("medium")
    page.get_by_label("Risk assessment").fill("Shadowed for a week: same alerts, 3% fewer false positives.")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("status")).to_contain_text("Production is requested")
    expect(page.locator("#pending-approval")).to_contain_text("medium risk")
    page.screenshot(path=str(screenshots / "version-requested.png"), full_page=True)

    _sign_in(page, app, live_server, approver)
    page.goto(f"{live_server.url}/models")
    page.get_by_role("link", name="Approvals").click()
    request = page.locator("li.approval", has_text="fraud_detector v2")
    expect(request).to_contain_text("3% fewer false positives")
    request.get_by_label("Reason (on the record)").fill("The shadow results hold.")
    page.screenshot(path=str(screenshots / "approvals-inbox.png"), full_page=True)
    request.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")

    page.goto(f"{live_server.url}/models/fraud_detector")
    expect(page.locator("#production-version")).to_contain_text("version 2")
    timeline = page.locator("#stage-timeline li")
    expect(timeline.first).to_contain_text("version 2")
    expect(timeline.first).to_contain_text("production")
    expect(timeline.first).to_contain_text("The shadow results hold.")
    expect(timeline.nth(1)).to_contain_text("archived")
    expect(page.locator("#versions-table td[data-stage='archived']")).to_have_count(1)
    page.screenshot(path=str(screenshots / "model-in-production.png"), full_page=True)
