"""HTTP helpers for the lifecycle tests: people in the default project, and the calls they make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API
from tests.builders.auth import Account, api, make_member, open_session


@dataclass
class Person:
    account: Account
    client: TestClient


def person(app: FastAPI, role: Role | str) -> Person:
    """A member of the default project with ``role`` (globally and there), logged in."""
    account = make_member(app, role)
    return Person(account, api(app, open_session(app, account).access_token))


def stage(client: TestClient, model: str, version: int | str, to: str, reason: str = "") -> httpx.Response:
    return client.post(f"{API}/models/{model}/versions/{version}/stage", json={"stage": to, "reason": reason})


def to_staging(client: TestClient, model: str, version: int | str) -> dict[str, Any]:
    response = stage(client, model, version, "staging", "tests pass")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def request_production(
    client: TestClient,
    model: str,
    version: int | str,
    *,
    level: str = "low",
    assessment: str = "shadowed for a week",
) -> httpx.Response:
    return client.post(
        f"{API}/models/{model}/versions/{version}/approval-requests",
        json={"risk_assessment": assessment, "risk_level": level},
    )


def decide(client: TestClient, approval_id: str, verdict: str, reason: str = "looks right") -> httpx.Response:
    return client.post(f"{API}/approvals/{approval_id}/{verdict}", json={"reason": reason})


def to_production(requester: TestClient, approver: TestClient, model: str, version: int) -> dict[str, Any]:
    """Staging (gates), a request, an approval by someone else: the version is in production."""
    to_staging(requester, model, version)
    asked = request_production(requester, model, version)
    assert asked.status_code == 201, asked.text
    approved = decide(approver, asked.json()["id"], "approve")
    assert approved.status_code == 200, approved.text
    body: dict[str, Any] = approved.json()
    return body


def history(client: TestClient, model: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/models/{model}/history", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def stages(client: TestClient, model: str) -> dict[int, str]:
    """Each version's current stage, as the history tells it (its last change)."""
    current: dict[int, str] = {}
    for change in history(client, model):
        current[change["version_number"]] = change["to_stage"]
    return current
