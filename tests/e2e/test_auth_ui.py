"""In Chromium: log in through the form, use the account menu, log out; the account pages fit a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from kiln.app import kiln_state
from kiln.auth import api_keys, service
from kiln.auth.permissions import Role
from kiln.auth.schemas import ApiKeyCreate
from kiln.core.db import Database
from tests.builders.auth import Account, make_account, make_project, make_user
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer
from tests.e2e.test_tracking_ui import OVERFLOWING

pytestmark = pytest.mark.e2e


def _fits_the_screen(page: Page, name: str, screen_width: int) -> None:
    # Wide tables scroll inside their box; the page itself never scrolls sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen_width, f"{name} is {width}px wide; too wide: {page.evaluate(OVERFLOWING)}"


def test_log_in_through_the_form_then_log_out(
    page: Page, app: FastAPI, live_server: LiveServer, screenshots: Path
) -> None:
    account = make_account(app, role=Role.data_scientist)
    page.goto(f"{live_server.url}/experiments")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Kiln")

    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password")
    expect(page.get_by_label("Email")).to_have_value(account.email)

    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/experiments$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Experiments")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["kiln_access"]["httpOnly"]
    assert cookies["kiln_refresh"]["sameSite"] == "Strict"
    # Only administrators see the administration links.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Experiments")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)

    menu = page.locator("[data-account-menu]")
    expect(menu.locator("summary")).to_contain_text(account.email)
    menu.locator("summary").click()
    expect(menu.get_by_role("link", name="Profile")).to_be_visible()
    page.screenshot(path=screenshots / "account-menu.png")
    # A click elsewhere closes the menu.
    page.get_by_role("heading", level=1).click()
    expect(menu.get_by_role("link", name="Profile")).to_be_hidden()

    menu.locator("summary").click()
    menu.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login\?notice=logged_out$"))
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    assert "kiln_access" not in {cookie["name"] for cookie in page.context.cookies()}

    page.goto(f"{live_server.url}/experiments")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Kiln")


def test_the_login_page_looks_right_on_a_desktop_and_a_phone(
    page: Page, app: FastAPI, live_server: LiveServer, screenshots: Path
) -> None:
    make_account(app)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/login")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        _fits_the_screen(page, f"login ({name})", viewport["width"])
        page.screenshot(path=screenshots / f"login-{name}.png", full_page=True)


def _populate(app: FastAPI, admin: Account) -> str:
    """Some people, a project and a key, so the pages show what they look like in use."""
    db: Database = kiln_state(app).db
    with db.unit_of_work() as session:
        scientist = make_user(session, email="grace@example.com", role=Role.data_scientist, name="Grace")
        viewer = make_user(session, email="a.very.long.address.for.testing@research.example.org")
        project = make_project(
            session,
            "fraud-detection",
            members={scientist.id: Role.data_scientist.value, viewer.id: Role.viewer.value},
        )
        owner = service.get_user(session, admin.id)
        api_keys.create_api_key(
            session,
            service.user_actor(owner),
            ApiKeyCreate(name="ci-nightly", project_id=project.id, role=Role.data_scientist),
            max_days=kiln_state(app).auth_config.api_key_max_days,
        )
        return project.id


def test_account_and_admin_pages_fit_a_phone(
    page: Page, app: FastAPI, live_server: LiveServer, signed_in: Account, screenshots: Path
) -> None:
    project_id = _populate(app, signed_in)
    for name, path in (
        ("project", f"/projects/{project_id}"),
        ("profile", "/profile"),
        ("api-keys", "/api-keys"),
        ("admin-users", "/admin/users"),
        ("projects", "/projects"),
        ("audit", "/audit"),
    ):
        page.set_viewport_size(DESKTOP)
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        page.screenshot(path=screenshots / f"{name}.png", full_page=True)
        page.set_viewport_size(PHONE)
        _fits_the_screen(page, name, PHONE["width"])
        page.screenshot(path=screenshots / f"phone-{name}.png", full_page=True)
