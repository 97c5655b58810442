"""Logging a TestClient in, and submitting the UI's forms with the CSRF token the page carries."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders.auth import Account, open_session
from tests.ui.html_tree import parse_html


def use_session(client: TestClient, app: FastAPI, account: Account) -> None:
    """Log in without the form (fast): set the cookies the login page would set."""
    pair = open_session(app, account)
    client.cookies.set("kiln_access", pair.access_token)
    client.cookies.set("kiln_refresh", pair.refresh_token)


def form_token(client: TestClient, url: str) -> str:
    """The CSRF token of the form on ``url``, as a browser would find it."""
    response = client.get(url)
    assert response.status_code == 200, response.text[:1000]
    fields = parse_html(response.text).find_all("input", name="csrf_token")
    assert fields, f"no CSRF field on {url}"
    return fields[0].attrs["value"]


def submit(client: TestClient, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
    """Open ``page``, then post its form to ``action`` with ``data`` (plus the page's CSRF token)."""
    token = form_token(client, page)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def log_in(client: TestClient, email: str, password: str, *, next_path: str = "") -> httpx.Response:
    return submit(client, "/login", "/login", {"email": email, "password": password, "next": next_path})
