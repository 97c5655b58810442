"""``kiln serve``: a serving-only process on the same database and store answers what the server deployed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import kiln
from kiln.app import KilnSettings
from tests.api import API
from tests.builders.core import unique
from tests.builders.registry_lifecycle import build_model
from tests.cli.test_server_command import running_server

pytestmark = pytest.mark.e2e  # a second process: a few seconds to start

ROWS = [{"amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]


def test_serve_answers_predictions_for_a_deployment_made_through_the_server(
    app: FastAPI, settings: KilnSettings, client: kiln.Client, admin_token: str, tmp_path: Path
) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    client.deployments.deploy("fraud-served", v1.model, version=1)  # through the all-in-one server
    assert settings.secret_key is not None
    assert settings.audit_key is not None
    shared = {
        "KILN_DATABASE_URL": settings.resolved_database_url,
        "KILN_ARTIFACT_ROOT": settings.storage.root(settings.home),
        # The server's keys: tokens it signed are valid here too.
        "KILN_SECRET_KEY": settings.secret_key,
        "KILN_AUDIT_KEY": settings.audit_key,
    }

    with running_server(tmp_path, command="serve", **shared) as (url, _log):
        with kiln.Client(url, token=admin_token) as serving:
            serving.deployments.wait_ready("fraud-served", timeout=30)
            answer = serving.deployments.predict("fraud-served", ROWS)
            listed = [d.name for d in serving.deployments.list()]
        # Only the serving routes: no UI, no sign-up, no control-plane writes.
        refused = [
            httpx.put(f"{url}{API}/deployments/x", json={"model": v1.model, "version": 1}).status_code,
            httpx.get(f"{url}{API}/experiments").status_code,
            httpx.post(f"{url}{API}/auth/login", json={}).status_code,
            httpx.get(f"{url}/").status_code,
        ]
        assert httpx.get(f"{url}/readyz").status_code == 200

    assert (answer.predictions, answer.model_version) == ([1, 0], 1)
    assert listed == ["fraud-served"]
    assert refused == [405, 404, 404, 404]
    # Stopping it wrote its prediction log into the shared database.
    logged = client.predictions.list(deployment="fraud-served")
    assert [item.request_id for item in logged] == [answer.request_id]
