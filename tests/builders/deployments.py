"""Deployments made over HTTP, and the model cache of an app brought up to date without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from tests.api import API
from tests.builders.auth import api
from tests.builders.core import unique
from tests.builders.registry_lifecycle import build_model

# Two records the test model answers 1 and 0 for.
ROWS = [{"amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]


def predict(client: TestClient, name: str, body: dict[str, object] | None = None) -> httpx.Response:
    return client.post(f"{API}/deployments/{name}/predict", json={"inputs": ROWS} if body is None else body)


def deploy(client: TestClient, name: str, model: str, **spec: Any) -> dict[str, Any]:
    response = client.put(f"{API}/deployments/{name}", json={"model": model, **spec})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(app: FastAPI) -> bool:
    """What the cache's thread does every second, now."""
    return kiln_state(app).model_cache.refresh()


def serve_model(app: FastAPI, token: str, *, public: bool = False) -> str:
    """A model deployed in the default project (by the holder of ``token``) and loaded by ``app``'s
    model cache; the deployment's name."""
    [v1] = build_model(app, name=unique("fraud"))
    name = unique("fraud-api")
    deploy(api(app, token), name, v1.model, version=1, public=public)
    refresh(app)
    return name


@contextmanager
def cache_running(app: FastAPI) -> Iterator[None]:
    """The model cache's refresh thread running, as the app's lifespan runs it (the live test server
    runs without a lifespan): a deployment made through the API is loaded as soon as it commits."""
    cache = kiln_state(app).model_cache
    cache.start()
    try:
        yield
    finally:
        cache.stop()
