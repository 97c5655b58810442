from fastapi.testclient import TestClient


def test_health_and_readiness_answer(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/v1/runs/does-not-exist")
    body = client.get("/metrics").text
    assert 'route="/api/v1/runs/{run_id}",status="404"' in body


def test_unknown_route_answers_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
