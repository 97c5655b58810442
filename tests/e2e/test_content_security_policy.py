"""The pages' content security policy (only Kiln's own script files) leaves the UI, its Plotly
charts and the Swagger UI at /docs working: the browser reports no violation anywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.iris_experiment import IrisExperiment, log_iris_experiment

pytestmark = [pytest.mark.e2e]

# Recorded from the first script on: a violation in an early inline script would be missed otherwise.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`));
"""


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


@pytest.mark.usefixtures("signed_in")
def test_no_page_breaks_the_content_security_policy(
    page: Page, live_server: LiveServer, api_token: str
) -> None:
    iris: IrisExperiment = log_iris_experiment(live_server.url, api_token)
    page.add_init_script(RECORD_VIOLATIONS)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)

    pages = {
        "experiments": "/experiments",
        "experiment": f"/experiments/{iris.id}",
        "run with charts": f"/runs/{iris.runs[0].id}",
        "compare": f"/compare?ids={iris.runs[0].id},{iris.runs[1].id}",
        "audit": "/audit",
        "api keys": "/api-keys",
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response is not None, name
        assert response.status == 200, name
        assert "script-src 'self'" in response.headers["content-security-policy"], name
        if name in ("run with charts", "compare"):
            expect(page.locator(".chart .main-svg").first).to_be_visible()
        assert violations(page) == [], name
    assert messages == []


def test_swagger_ui_renders_from_local_files_under_the_policy(page: Page, live_server: LiveServer) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else elsewhere.append(r.url))
    page.goto(f"{live_server.url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/runs")
    assert violations(page) == []
    assert elsewhere == []


@pytest.mark.usefixtures("admin")  # with no account yet, /login sends people to /register
def test_the_login_page_works_under_the_policy(page: Page, live_server: LiveServer) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert violations(page) == []
