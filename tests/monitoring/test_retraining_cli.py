"""``kiln monitor retrain-on|retrain-triggers|retrain-off`` and ``client.monitoring.retraining`` against a
live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import kiln
from kiln.cli import output
from kiln.cli.main import app as cli
from tests.builders.drift import serve as deploy_fraud
from tests.builders.pipelines import register
from tests.live_server import serve


@pytest.fixture
def sdk(
    app: FastAPI, client: TestClient, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[kiln.Client]:
    deploy_fraud(app, client)
    assert register(client, examples.retrain).status_code == 201
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        with kiln.Client(url) as sdk_client:
            yield sdk_client


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(output.console, "width", 250)
    monkeypatch.setattr(output.errors, "width", 250)
    return CliRunner()


def test_the_sdk_makes_lists_and_deletes_a_trigger(sdk: kiln.Client) -> None:
    made = sdk.monitoring.retraining.create(
        "fraud", "retrain", parameters={"rows": 20}, on=["drift"], cooldown="1h"
    )
    assert (made.pipeline, made.on_drift, made.on_alert, made.cooldown_seconds) == (
        "retrain",
        True,
        False,
        3_600,
    )
    [listed] = sdk.monitoring.retraining.list(deployment="fraud")
    assert listed.id == made.id
    with pytest.raises(kiln.Conflict, match="already has a retraining trigger"):
        sdk.monitoring.retraining.create("fraud", "retrain")
    with pytest.raises(kiln.NotFound, match="pipeline 'nope' not found"):
        sdk.monitoring.retraining.create("fraud", "nope")
    sdk.monitoring.retraining.delete(made.id)
    assert list(sdk.monitoring.retraining.list()) == []


def test_the_cli_turns_retraining_on_lists_and_off(sdk: kiln.Client, runner: CliRunner) -> None:
    made = runner.invoke(
        cli,
        ["monitor", "retrain-on", "fraud", "--pipeline", "retrain", "-p", "rows=30", "--on", "drift,alert"],
    )
    assert made.exit_code == 0, made.output
    assert "fraud runs retrain on drift, alert (cooldown 6h)" in made.output
    [trigger] = sdk.monitoring.retraining.list()
    assert trigger.parameters == {"rows": 30}

    listed = runner.invoke(cli, ["monitor", "retrain-triggers"])
    assert listed.exit_code == 0, listed.output
    assert trigger.id in listed.output
    assert "retrain" in listed.output

    bad = runner.invoke(cli, ["monitor", "retrain-on", "fraud", "--pipeline", "retrain", "--on", "moon"])
    assert bad.exit_code == 2
    assert "write drift, alert or drift,alert" in bad.output

    refused = runner.invoke(cli, ["monitor", "retrain-on", "other", "--pipeline", "retrain", "-p", "rows=1"])
    assert refused.exit_code == 1
    assert "deployment 'other' not found" in refused.output

    off = runner.invoke(cli, ["monitor", "retrain-off", trigger.id])
    assert off.exit_code == 0, off.output
    assert list(sdk.monitoring.retraining.list()) == []
