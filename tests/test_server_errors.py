"""An unexpected error answers 500 JSON, logs one traceback, and leaves the connection usable (L1);
bad paging cursors on the audit trail are the caller's mistake, not a 500."""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.builders.auth import make_account
from tests.live_server import serve
from tests.ui.sessions import use_session


def _add_failing_route(app: FastAPI) -> None:
    # Test-only: the product has no route that fails on purpose.
    def fail() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/fails", fail, methods=["GET", "POST"])


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """What uvicorn itself logs as errors (an exception that escaped the app)."""
    collect = _Collect()
    logging.getLogger("uvicorn.error").addHandler(collect)
    yield collect.records
    logging.getLogger("uvicorn.error").removeHandler(collect)


def test_a_500_keeps_the_keep_alive_connection_usable_and_logs_once(
    app: FastAPI, server_errors: list[logging.LogRecord]
) -> None:
    _add_failing_route(app)
    with serve(app) as url:
        connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
        connection.request(
            "POST", "/test-only/fails", body=b"{}", headers={"content-type": "application/json"}
        )
        failed = connection.getresponse()
        body = json.loads(failed.read())
        assert failed.status == 500
        assert body["error"]["code"] == "internal"
        assert failed.getheader("x-request-id") in body["error"]["message"]
        assert failed.getheader("connection") != "close"
        # The same socket answers the next request.
        connection.request("GET", "/healthz")
        after = connection.getresponse()
        assert after.status == 200
        assert json.loads(after.read())["status"] == "ok"
        connection.close()
    # Kiln logs the traceback once (http.unhandled_error); nothing escapes for uvicorn to log again.
    assert [record.getMessage() for record in server_errors] == []


class TestAuditCursor:
    def test_a_huge_before_seq_is_422(self, client: TestClient) -> None:
        response = client.get("/api/v1/audit", params={"before_seq": 2**70})
        assert response.status_code == 422
        assert "before_seq" in response.json()["error"]["message"]

    def test_a_huge_before_on_the_audit_page_is_400(self, app: FastAPI) -> None:
        with TestClient(app) as browser:
            use_session(browser, app, make_account(app, role=Role.admin))
            response = browser.get("/audit", params={"before": 2**70})
        assert response.status_code == 400
        assert "before" in response.text
