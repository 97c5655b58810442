"""Browser tests: the app under a real uvicorn server on 127.0.0.1 and Debian's headless Chromium.

One browser per session (it takes seconds to start); a fresh server, database and page per test.
Never run ``playwright install``: the browser is /usr/bin/chromium (``apt-get install chromium``).
Screenshots go to the test's tmp_path, or to $KILN_E2E_SCREENSHOTS when set (to look at them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    ViewportSize,
    sync_playwright,
)

from kiln.auth.permissions import Role
from tests.builders.auth import Account, make_account, open_session
from tests.live_server import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with serve(app) as url:
        yield LiveServer(url)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; any JavaScript error on it fails the test."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        # Failed loads are reported (with their URL) by on_response below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console error: {message.text}")

    def on_response(response: Response) -> None:
        # A failed page (an expected 400/404) is the test's business; a failed script or style is a bug.
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    yield page
    context.close()
    assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)


@pytest.fixture
def admin(app: FastAPI) -> Account:
    return make_account(app, role=Role.admin)


@pytest.fixture
def api_token(app: FastAPI, admin: Account) -> str:
    """An access token of the admin, for clients that populate the server over the REST API."""
    return open_session(app, admin).access_token


@pytest.fixture
def signed_in(page: Page, app: FastAPI, live_server: LiveServer, admin: Account) -> Account:
    """The page is logged in as the admin: the cookies a login sets (the login form has its own test)."""
    pair = open_session(app, admin)
    page.context.add_cookies(
        [
            {"name": "kiln_access", "value": pair.access_token, "url": live_server.url, "httpOnly": True},
            {"name": "kiln_refresh", "value": pair.refresh_token, "url": live_server.url, "httpOnly": True},
        ]
    )
    return admin


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KILN_E2E_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
