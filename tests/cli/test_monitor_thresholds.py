"""``kiln monitor thresholds`` and ``client.monitoring.*drift_settings`` against a live server
(tests/cli/conftest.py: ``client`` is the SDK there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from tests.builders.auth import api
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model


@pytest.fixture
def model(app: FastAPI, admin_token: str) -> str:
    [version] = build_model(app)
    deploy(api(app, admin_token), "fraud", version.model, version=1)
    return version.model


def test_the_sdk_sets_reads_and_clears_a_models_thresholds(client: kiln.Client, model: str) -> None:
    stored = client.monitoring.set_drift_settings(model, {"features": {"amount": {"psi": 0.3}}})
    assert (stored.source, stored.thresholds.for_feature("amount").psi) == ("model", 0.3)
    assert client.monitoring.drift_settings(model, version=1).source == "model"
    with pytest.raises(kiln.ValidationFailed, match="'zipcode' is not an input"):
        client.monitoring.set_drift_settings(model, {"ignore": ["zipcode"]}, version=1)
    client.monitoring.clear_drift_settings(model)
    assert client.monitoring.drift_settings(model).source == "defaults"


def test_the_cli_shows_and_sets_thresholds_from_a_file(
    client: kiln.Client, runner: CliRunner, model: str, tmp_path: Path
) -> None:
    document = tmp_path / "thresholds.json"
    document.write_text('{"features": {"age": {"method": "psi", "psi": 0.25}}, "ignore": ["amount"]}')
    stored = runner.invoke(cli, ["monitor", "thresholds", model, "--version", "1", "--set", str(document)])
    assert stored.exit_code == 0, stored.output
    assert "stored" in stored.output
    assert "Source: the version's own" in stored.output
    assert "Ignored: amount" in stored.output
    assert client.monitoring.drift_settings(model, version=1).thresholds.ignore == ["amount"]

    shown = runner.invoke(cli, ["monitor", "thresholds", model])
    assert shown.exit_code == 0, shown.output
    assert "Kiln's defaults" in shown.output

    document.write_text('{"features": {"nope": {}}}')
    refused = runner.invoke(cli, ["monitor", "thresholds", model, "--set", str(document)])
    assert refused.exit_code == 1
    assert "'nope' is not an input" in refused.output
