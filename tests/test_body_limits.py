"""Request bodies are capped by route before anything reads them, whatever their content type (M3)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import create_app, kiln_state
from kiln.core.body_limits import UploadRoute, check_upload_routes
from kiln.core.settings import Settings
from tests.builders import make_user_token
from tests.live_server import serve
from tests.tracking.api import API, create_run

KiB = 1024
JSON_LIMIT = 64 * KiB
FORM_LIMIT = 8 * KiB
UPLOAD_LIMIT = 512 * KiB


@pytest.fixture
def small_app(settings: Settings) -> Iterator[FastAPI]:
    limited = settings.with_sections(
        http={"max_json_bytes": JSON_LIMIT, "max_form_bytes": FORM_LIMIT, "max_upload_bytes": UPLOAD_LIMIT}
    )
    application = create_app(limited, migrate=False)
    yield application
    kiln_state(application).db.dispose()


@pytest.fixture
def anonymous(small_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(small_app) as client:
        yield client


@pytest.fixture
def uploader(small_app: FastAPI) -> Iterator[TestClient]:
    token = make_user_token(small_app, "ds@kiln.test", role="admin")
    with TestClient(small_app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert isinstance(body, dict)
    return body["error"]  # type: ignore[no-any-return]


class TestBeforeAuthentication:
    @pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", None])
    def test_a_large_login_body_of_any_type_is_413(
        self, anonymous: TestClient, content_type: str | None
    ) -> None:
        headers = {"content-type": content_type} if content_type else {}
        response = anonymous.post("/api/v1/auth/login", content=b"a" * (JSON_LIMIT + 1), headers=headers)
        assert response.status_code == 413
        assert error(response)["message"] == f"request body exceeds {JSON_LIMIT} bytes (KILN_MAX_JSON_BYTES)"
        assert error(response)["details"] == {"limit_bytes": JSON_LIMIT}

    def test_a_chunked_body_without_length_is_counted(self, anonymous: TestClient) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(4):
                yield b"a" * (JSON_LIMIT // 2)

        response = anonymous.post(
            "/api/v1/auth/login", content=chunks(), headers={"content-type": "text/plain"}
        )
        assert response.status_code == 413

    def test_a_large_ui_form_is_413_at_the_form_limit(self, anonymous: TestClient) -> None:
        body = b"email=a%40b.c&password=" + b"x" * FORM_LIMIT
        response = anonymous.post(
            "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 413
        assert "KILN_MAX_FORM_BYTES" in str(error(response)["message"])

    def test_a_body_within_the_limit_still_reaches_the_route(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            "/api/v1/auth/login", content=b"a" * 100, headers={"content-type": "text/plain"}
        )
        assert response.status_code == 422


class TestUploads:
    def test_an_upload_sent_as_json_gets_the_upload_limit(self, uploader: TestClient) -> None:
        run = create_run(uploader)
        body = b"[" + b"1," * JSON_LIMIT + b"1]"  # above the JSON limit, below the upload limit
        response = uploader.put(
            f"{API}/runs/{run['id']}/artifacts/data.json",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["size"] == len(body)

    def test_an_upload_above_the_upload_limit_is_413_whatever_its_type(self, uploader: TestClient) -> None:
        run = create_run(uploader)
        response = uploader.put(
            f"{API}/runs/{run['id']}/artifacts/data.json",
            content=b"1" * (UPLOAD_LIMIT + 1),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert "KILN_MAX_UPLOAD_BYTES" in str(error(response)["message"])

    def test_other_methods_on_the_upload_path_get_the_json_limit(self, uploader: TestClient) -> None:
        run = create_run(uploader)
        response = uploader.post(f"{API}/runs/{run['id']}/artifacts/x", content=b"1" * (JSON_LIMIT + 1))
        assert response.status_code == 413
        assert "KILN_MAX_JSON_BYTES" in str(error(response)["message"])

    def test_declaring_an_upload_route_the_app_does_not_serve_fails_app_creation(
        self, small_app: FastAPI
    ) -> None:
        check_upload_routes(small_app)  # the declared routes exist
        with pytest.raises(RuntimeError, match=re.escape("PUT /api/v1/models/{name}/files/{path:path}")):
            check_upload_routes(small_app, (UploadRoute("PUT", "/api/v1/models/{name}/files/{path:path}"),))


def test_a_declared_length_over_the_limit_is_answered_before_the_body_is_sent(small_app: FastAPI) -> None:
    """On a real server: only the headers go out, and the 413 comes back (nothing waits for 40 MB)."""
    with serve(small_app) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 41943040\r\n\r\n"
            )
            reply = conn.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:200]
    assert b"KILN_MAX_JSON_BYTES" in reply
