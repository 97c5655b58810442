"""Page clients for the lifecycle page tests: a logged-in browser-like client per person."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders.auth import Account
from tests.ui.html_tree import Element, parse_html
from tests.ui.sessions import form_token, use_session


@contextmanager
def browser_of(app: FastAPI, account: Account) -> Iterator[TestClient]:
    """A TestClient logged in to the UI as ``account`` (cookies, as after the login form)."""
    with TestClient(app, raise_server_exceptions=False) as client:
        use_session(client, app, account)
        yield client


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
    """Open ``page`` and post to ``action`` with the page's CSRF token, not following the redirect."""
    return client.post(action, data={"csrf_token": form_token(client, page), **data}, follow_redirects=False)


def page_tree(client: TestClient, url: str) -> Element:
    response = client.get(url)
    assert response.status_code == 200, response.text[:2000]
    return parse_html(response.text)


def version_url(model: str, number: int) -> str:
    return f"/models/{model}/versions/{number}"
