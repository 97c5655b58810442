"""The SDK and the CLI against a live server (the same fixtures as tests/cli, under other names)."""

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
def sdk(live_url: str) -> Iterator[kiln.Client]:
    with kiln.Client(live_url) as sdk_client:
        yield sdk_client


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(output.console, "width", 250)
    monkeypatch.setattr(output.errors, "width", 250)
    return CliRunner()
