"""SDK tests talk to a real Kiln server over HTTP (uvicorn on a free loopback port)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

import kiln
from tests.live_server import serve


@pytest.fixture
def live_url(app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        yield url
        # A test that failed half-way must not leave its run active for the next one.
        while kiln.active_run() is not None:
            with contextlib.suppress(kiln.KilnError):
                kiln.end_run("killed")


@pytest.fixture
def client(live_url: str) -> Iterator[kiln.Client]:
    """A low-level SDK client for checking what the server stored (overrides the TestClient fixture)."""
    with kiln.Client(live_url) as sdk_client:
        yield sdk_client
