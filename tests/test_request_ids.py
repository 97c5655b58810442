"""A client's x-request-id is kept only when it is plainly an id; anything else gets a fresh one, so
free text never reaches the logs or the audit trail."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders.audit import audit_records


def test_a_well_formed_id_is_kept_in_the_response_and_the_audit_record(
    client: TestClient, app: FastAPI
) -> None:
    response = client.post(
        "/api/v1/experiments", json={"name": "kept"}, headers={"x-request-id": "ci-42.retry_1"}
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "ci-42.retry_1"
    assert audit_records(app)[-1].request_id == "ci-42.retry_1"


@pytest.mark.parametrize(
    "offered",
    [b"forged id", b"x" * 65, b"<script>", b"a;b", b"tab\tinside", "ümlaut".encode()],
)
def test_anything_else_is_replaced(client: TestClient, app: FastAPI, offered: bytes) -> None:
    response = client.post(
        "/api/v1/experiments", json={"name": "replaced"}, headers={"x-request-id": offered}
    )
    assert response.status_code == 201
    fresh = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    assert audit_records(app)[-1].request_id == fresh
