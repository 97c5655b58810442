"""``kiln monitor show|drift`` and ``client.monitoring``'s stored drift reports, against a live server."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from kiln.core.ids import utcnow
from tests.builders.drift import like_training, log_served
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import at

HOUR = at("2025-03-01T11:00:00+00:00")


def test_compute_with_the_sdk_then_read_what_moved_on_the_command_line(
    app: FastAPI, runner: CliRunner, client: kiln.Client
) -> None:
    [version] = build_model(app)
    client.deployments.deploy("fraud", version.model, version=1)
    served = like_training(300, seed=3)
    served["amount"] = served["amount"] * 3
    log_served(app, version.id, served, start=HOUR)

    stored = client.monitoring.compute_drift_report("fraud", "2025-03-01T11:00:00Z")
    assert stored is not None
    assert stored.drifted_features == ["amount"]
    [listed] = client.monitoring.drift_reports("fraud", retrain_recommended=True)
    assert listed.id == stored.id
    assert client.monitoring.drift_report("fraud", stored.id).features == stored.features
    series = client.monitoring.feature_scores(
        "fraud", "amount", from_="2025-03-01T00:00:00Z", to="2025-03-02T00:00:00Z"
    )
    assert [point.drifted for point in series.points] == [True]

    result = runner.invoke(cli, ["monitor", "drift", "fraud"])
    assert result.exit_code == 0, result.output
    assert stored.id in result.output
    assert "amount" in result.output
    assert "drifted" in result.output
    assert "retraining is recommended" in result.output


def test_a_deployment_without_reports_says_so(app: FastAPI, runner: CliRunner, client: kiln.Client) -> None:
    [version] = build_model(app)
    client.deployments.deploy("fraud", version.model, version=1)
    result = runner.invoke(cli, ["monitor", "drift", "fraud"])
    assert result.exit_code == 0, result.output
    assert "No stored drift reports of fraud yet" in result.output
    missing = runner.invoke(cli, ["monitor", "drift", "nope"])
    assert missing.exit_code != 0
    assert "deployment 'nope' not found" in missing.output


def test_show_prints_the_last_windows_of_a_deployment(
    app: FastAPI, runner: CliRunner, client: kiln.Client
) -> None:
    [version] = build_model(app)
    client.deployments.deploy("fraud", version.model, version=1)
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    log_served(app, version.id, like_training(300, seed=4), start=hour)  # 30 requests of 10 rows
    client.monitoring.compute_windows("fraud", window="1h")

    result = runner.invoke(cli, ["monitor", "show", "fraud", "--last", "48"])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if hour.strftime("%Y-%m-%d %H:%M") in line]
    assert " 30 " in row  # the requests of that hour
    assert "0.0%" in row  # no errors
    assert "—" in row  # no ground truth yet: no accuracy

    bad = runner.invoke(cli, ["monitor", "show", "fraud", "--window", "2h"])
    assert bad.exit_code != 0
    assert "expected one of 1m, 1h, 1d" in bad.output
