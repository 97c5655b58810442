"""A direct route is answered from Kiln's ASGI layer with what every other request gets: the request
id, the security headers, the error shape of a ``KilnError``, the body limit, the metrics label."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from starlette.responses import JSONResponse, Response

from kiln.core.body_limits import BodyLimits
from kiln.core.direct_routes import DirectRoute, DirectRoutes, Fallback
from kiln.core.errors import KilnError, NotFound
from kiln.core.http import HttpMetrics, RequestContextMiddleware, install_error_handlers, kiln_error_answer

TEMPLATE = "/things/{name}/echo"


async def echo(request: Request, name: str) -> Response:
    if name == "ghost":
        raise NotFound(f"thing {name!r} not found")
    body = await request.body()
    if name == "other":
        raise Fallback(body)  # not ours: the FastAPI route answers, with the body as sent
    return JSONResponse({"name": name, "bytes": len(body), "direct": "route" in request.scope})


def small_app(limit: int = 1000) -> tuple[FastAPI, CollectorRegistry]:
    app = FastAPI()
    install_error_handlers(app)
    registry = CollectorRegistry()
    direct = DirectRoutes([DirectRoute("POST", TEMPLATE, echo)], error_types=(KilnError,))
    limits = BodyLimits(max_json_bytes=limit, max_form_bytes=limit, max_upload_bytes=limit, uploads=())
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry), limits=limits, direct=direct)
    direct.bind(app, kiln_error_answer)

    @app.post("/things/{name}/echo")
    async def declared(name: str, request: Request) -> dict[str, object]:  # only for a Fallback
        return {"name": name, "via": "fastapi", "bytes": len(await request.body())}

    return app, registry


def test_the_direct_route_answers_with_request_id_and_security_headers() -> None:
    app, _ = small_app()
    with TestClient(app) as client:
        response = client.post("/things/a%20b/echo", content=b"12345", headers={"x-request-id": "ci-7"})
    assert response.status_code == 200
    assert response.json() == {"name": "a b", "bytes": 5, "direct": True}
    assert response.headers["x-request-id"] == "ci-7"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_a_request_it_hands_over_reaches_the_fastapi_route_with_its_body() -> None:
    app, _ = small_app()
    with TestClient(app) as client:
        response = client.post("/things/other/echo", content=b"123", headers={"x-request-id": "ci-8"})
    assert response.status_code == 200
    assert response.json() == {"name": "other", "via": "fastapi", "bytes": 3}
    assert response.headers["x-request-id"] == "ci-8"


def test_a_kiln_error_it_raises_is_answered_in_the_error_shape() -> None:
    app, _ = small_app()
    with TestClient(app) as client:
        response = client.post("/things/ghost/echo", content=b"{}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error == {"code": "not_found", "message": "thing 'ghost' not found", "details": {}}
    assert response.headers["x-request-id"]
    assert response.headers["x-frame-options"] == "DENY"


def test_an_oversized_body_is_a_413_and_other_methods_reach_fastapi() -> None:
    app, _ = small_app(limit=10)
    with TestClient(app) as client:
        too_big = client.post("/things/a/echo", content=b"x" * 11)
        other = client.get("/things/a/echo")
    assert too_big.status_code == 413
    assert too_big.json()["error"]["message"] == "request body exceeds 10 bytes (KILN_MAX_JSON_BYTES)"
    assert other.status_code == 405  # FastAPI's routing answers what the direct route does not take


def test_it_is_counted_under_its_template() -> None:
    app, registry = small_app()
    with TestClient(app) as client:
        client.post("/things/a/echo", content=b"")
        client.post("/things/ghost/echo", content=b"")
    metrics = generate_latest(registry).decode()
    assert f'route="{TEMPLATE}",status="200"' in metrics
    assert f'route="{TEMPLATE}",status="404"' in metrics


def test_under_a_root_path_starlette_routes_it() -> None:
    app, _ = small_app()
    with TestClient(app, root_path="/prefix") as client:
        response = client.post("/prefix/things/a/echo", content=b"")
    assert response.json() == {"name": "a", "via": "fastapi", "bytes": 0}
