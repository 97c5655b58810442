"""Every response says nosniff and refuses framing; HTML pages carry a script policy; /docs runs only
same-origin files (L7)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.tracking.api import API, create_run


def assert_base_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


class TestEveryResponse:
    @pytest.mark.parametrize(
        "path",
        ["/healthz", "/api/v1/experiments", "/api/v1/nothing-here", "/static/kiln.css", "/openapi.json"],
    )
    def test_json_static_and_errors(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert_base_headers(response)
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"

    def test_artifact_downloads(self, client: TestClient) -> None:
        run = create_run(client)
        client.put(f"{API}/runs/{run['id']}/artifacts/page.html", content=b"<script>alert(1)</script>")
        response = client.get(f"{API}/runs/{run['id']}/artifacts/page.html")
        assert response.status_code == 200
        assert_base_headers(response)

    def test_html_pages_allow_only_same_origin_script(self, anonymous_client: TestClient) -> None:
        response = anonymous_client.get("/register")
        assert response.headers["content-type"].startswith("text/html")
        assert_base_headers(response)
        policy = response.headers["content-security-policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'"):
            assert directive in policy
        assert "<script>" not in response.text  # no inline script for the policy to block


class TestSwaggerUi:
    def test_docs_reference_only_same_origin_assets_and_they_load(self, anonymous_client: TestClient) -> None:
        page = anonymous_client.get("/docs")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert any("swagger-ui-bundle.js" in a for a in assets)
        assert any("swagger-ui.css" in a for a in assets)
        assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        assert "<script>" not in page.text
        for asset in assets:
            loaded = anonymous_client.get(asset.replace("&amp;", "&"))
            assert loaded.status_code == 200, asset
            assert loaded.headers["x-content-type-options"] == "nosniff"
        assert "SwaggerUIBundle" in anonymous_client.get(next(a for a in assets if "bundle" in a)).text

    def test_unknown_assets_and_redoc_are_not_served(self, anonymous_client: TestClient) -> None:
        assert anonymous_client.get("/docs/assets/../../etc/passwd").status_code == 404
        assert anonymous_client.get("/docs/assets/favicon.png").status_code == 404
        assert anonymous_client.get("/redoc").status_code == 404
