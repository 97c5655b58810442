"""Deployments made over HTTP, and the model cache of an app brought up to date without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from tests.api import API


def deploy(client: TestClient, name: str, model: str, **spec: Any) -> dict[str, Any]:
    response = client.put(f"{API}/deployments/{name}", json={"model": model, **spec})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(app: FastAPI) -> bool:
    """What the cache's thread does every second, now."""
    return kiln_state(app).model_cache.refresh()


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
