"""Retries: a gateway's 502/503/504 and refused connections are retried; the caller's 4xx never are.

The stand-in here is a gateway in front of Kiln (a plain stdlib HTTP server), not Kiln itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import kiln
from kiln.client.transport import Transport


class Gateway(ThreadingHTTPServer):
    def __init__(self, answers: list[tuple[int, dict[str, object]]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers = answers
        self.seen: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: Gateway

    def _answer(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        status, body = self.server.answers.pop(0) if self.server.answers else (200, {})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway([])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def transport(server: Gateway) -> Transport:
    return Transport(f"http://127.0.0.1:{server.server_address[1]}", backoff=0.01)


def test_unavailable_answers_are_retried_until_success(gateway: Gateway) -> None:
    gateway.answers = [(503, {}), (502, {}), (200, {"items": [], "next_cursor": None})]
    assert transport(gateway).request("GET", "/experiments") == {"items": [], "next_cursor": None}
    assert gateway.seen == ["GET /api/v1/experiments"] * 3


def test_client_errors_are_not_retried_and_keep_their_class(gateway: Gateway) -> None:
    body = {"error": {"code": "conflict", "message": "experiment 'x' exists", "details": {}}}
    gateway.answers = [(409, body)]
    with pytest.raises(kiln.Conflict, match="experiment 'x' exists"):
        transport(gateway).request("POST", "/experiments", json_body={"name": "x"})
    assert len(gateway.seen) == 1


def test_retries_stop_after_the_limit(gateway: Gateway) -> None:
    gateway.answers = [(504, {})] * 10
    client = transport(gateway)
    with pytest.raises(kiln.KilnError):
        client.request("GET", "/runs")
    assert len(gateway.seen) == client.retries + 1


def test_identity_and_token_headers_are_sent(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    seen_headers: list[dict[str, str]] = []
    original = _Handler._answer

    def record(handler: _Handler) -> None:
        seen_headers.append(dict(handler.headers))
        original(handler)

    monkeypatch.setattr(_Handler, "do_GET", record)
    monkeypatch.setenv("KILN_TOKEN", "secret-token")
    gateway.answers = [(200, {"items": [], "next_cursor": None})]
    kiln.Client(f"http://127.0.0.1:{gateway.server_address[1]}").list_experiments()
    headers = {key.lower(): value for key, value in seen_headers[0].items()}
    assert headers["authorization"] == "Bearer secret-token"
