"""CLI tests run the real ``kiln`` Typer app against a live server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli import output
from tests.live_server import serve


@pytest.fixture
def live_url(app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        yield url


@pytest.fixture
def client(live_url: str) -> Iterator[kiln.Client]:
    """The SDK, to arrange data and check what the commands did (overrides the TestClient fixture)."""
    with kiln.Client(live_url) as sdk_client:
        yield sdk_client


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # Tables as wide as a desktop terminal, so ids are not folded across lines in the captured text.
    monkeypatch.setattr(output.console, "width", 250)
    monkeypatch.setattr(output.errors, "width", 250)
    return CliRunner()
