"""``kiln alerts list|ack|rules`` against a live server, with ``kiln.alerts`` and ``client.alerts``."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from kiln.core.ids import utcnow
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.windows import window_start
from tests.builders.alerts import add_windows
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.registry_lifecycle import build_model


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_create_a_rule_with_the_sdk_then_list_and_ack_its_incident_on_the_command_line(
    app: FastAPI, runner: CliRunner, client: kiln.Client
) -> None:
    [version] = build_model(app)
    client.deployments.deploy("fraud", version.model, version=1)
    channel = client.alerts.create_channel("app", "in_app")
    rule = kiln.alerts.create("fraud", "accuracy", "<", 0.85, duration="2m", channels=["app"], client=client)
    assert (rule.duration_seconds, rule.window_seconds, rule.channels) == (120, 60, [channel.id])

    base = window_start(utcnow() - timedelta(hours=1), 60)
    add_windows(
        database(app),
        default_project_id(app),
        "fraud",
        "accuracy",
        {base: 0.5, base + timedelta(minutes=1): 0.6},
    )
    with database(app).unit_of_work() as session:
        evaluate_alerts(session, base + timedelta(minutes=2))

    rules = invoke(runner, "alerts", "rules", "--deployment", "fraud")
    assert "accuracy < 0.85 for 2m" in rules
    assert "firing" in rules
    [incident] = client.alerts.list(state="firing")
    assert incident.id in invoke(runner, "alerts", "list", "--state", "firing")
    assert "acknowledged by" in invoke(runner, "alerts", "ack", incident.id, "--note", "looking")
    assert client.alerts.get(incident.id).note == "looking"
