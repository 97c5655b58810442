"""In Chromium: the bell counts the unread notifications, opens the inbox, and the count follows
what the user marks read; the inbox fits a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from tests.builders.auth import Account
from tests.builders.notify import ROLLED_BACK, send
from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.test_tracking_ui import OVERFLOWING

pytestmark = pytest.mark.e2e


def test_the_bell_opens_the_inbox_and_follows_marking_read(
    page: Page, app: FastAPI, live_server: LiveServer, signed_in: Account, screenshots: Path
) -> None:
    send(app, [signed_in], title="fraud_detector v3 is in staging", link="/experiments")
    send(app, [signed_in], kind=ROLLED_BACK, title="churn rolled back to v1", body="Reason: drift.")

    page.goto(f"{live_server.url}/experiments")
    bell = page.locator("#notification-bell")
    expect(bell.locator(".bell__count")).to_have_text("2")
    bell.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    rows = page.locator("li.notification")
    expect(rows).to_have_count(2)
    page.screenshot(path=str(screenshots / "notifications.png"), full_page=True)
    rows.first.get_by_role("button", name="Mark read").click()
    expect(bell.locator(".bell__count")).to_have_text("1")
    expect(rows.first).to_have_attribute("data-read", "yes")

    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status")).to_contain_text("Every notification is marked read")
    expect(bell.locator(".bell__count")).to_have_count(0)

    page.get_by_role("link", name="fraud_detector v3 is in staging").click()
    expect(page).to_have_url(f"{live_server.url}/experiments")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/notifications")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the inbox is {width}px wide: {page.evaluate(OVERFLOWING)}"
