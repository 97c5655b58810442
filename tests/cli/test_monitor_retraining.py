"""``kiln monitor retrain-on|retrain-triggers|retrain-off`` and ``client.monitoring.retraining`` against a
live server (tests/cli/conftest.py: ``client`` is the SDK there)."""

from __future__ import annotations

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from tests.builders.auth import api
from tests.builders.drift import serve as deploy_fraud
from tests.builders.pipelines import register


@pytest.fixture
def sdk(app: FastAPI, admin_token: str, client: kiln.Client) -> kiln.Client:
    """The SDK on a live server, with deployment ``fraud`` and pipeline ``retrain`` in its project."""
    http = api(app, admin_token)  # not entered: the live server runs the app's lifespan
    deploy_fraud(app, http)
    assert register(http, examples.retrain).status_code == 201
    return client


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
