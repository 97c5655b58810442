"""``kiln deploy|undeploy|predict`` and ``kiln deployments list|show|logs`` against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.app import kiln_state
from kiln.cli import deployments as deployments_cli
from kiln.cli.main import app as cli
from tests.builders.core import unique
from tests.builders.deployments import cache_running
from tests.builders.registry_lifecycle import build_model, corrupt_payload

ROWS = [{"amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]


@pytest.fixture
def loading(app: FastAPI, live_url: str) -> Iterator[None]:
    with cache_running(app):
        yield


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("loading")
def test_deploy_predict_read_the_log_and_undeploy(
    app: FastAPI,
    runner: CliRunner,
    client: kiln.Client,
    live_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    name = v1.model

    deployed = invoke(runner, "deploy", name, "--version", "1")
    assert f"Deployed {name}: {name} v1" in deployed
    assert f"Ready. Predict at: POST {live_url}/api/v1/deployments/{name}/predict" in deployed
    listed = invoke(runner, "deployments", "list")
    assert name in listed
    assert "ready" in listed
    shown = invoke(runner, "deployments", "show", name)
    assert f"POST {live_url}/api/v1/deployments/{name}/predict" in shown
    assert "an API key of its project" in shown

    table = invoke(runner, "predict", name, "--json", json.dumps(ROWS))
    assert f"{name} v1 answered 2 row(s)" in table
    assert "P(1)" in table
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("amount,age\n80,30\n10,60\n")
    from_csv = invoke(runner, "predict", name, "--file", str(csv_file), "--output", "json")
    assert json.loads(from_csv)["predictions"] == [1, 0]
    csv_file.write_text("amount,age\n80,\n")
    empty_cell = runner.invoke(cli, ["predict", name, "--file", str(csv_file)])
    assert empty_cell.exit_code == 1
    assert "age: missing" in empty_cell.output  # left out, not sent as ''
    answer = json.loads(
        invoke(runner, "predict", name, "-j", '{"columns": {"amount": [80], "age": [30]}}', "-o", "json")
    )
    assert answer["predictions"] == [1]
    refused = runner.invoke(cli, ["predict", name, "--json", '[{"amount": "lots", "age": 30}]'])
    assert refused.exit_code == 1
    assert "amount" in refused.output
    assert "Traceback" not in refused.output

    kiln_state(app).prediction_logger.flush()
    logs = invoke(runner, "deployments", "logs", name)
    assert answer["request_id"] in logs
    assert "invalid" in logs
    assert logs.count("\n") > 4
    invalid_only = invoke(runner, "deployments", "logs", name, "--status", "invalid")
    assert answer["request_id"] not in invalid_only
    assert "amount" in invalid_only

    # --follow prints what arrives after it started, once; Ctrl-C ends it. Its pause between looks
    # is where the test acts: the first predicts (as a caller would meanwhile), the second presses Ctrl-C.
    later: list[str] = []

    def between_looks(_seconds: float) -> None:
        if later:
            raise KeyboardInterrupt
        later.append(client.deployments.predict(name, ROWS[:1]).request_id)
        kiln_state(app).prediction_logger.flush()

    # Only the command's own pause: patching time.sleep itself would also run this from the server's
    # background threads (the rate limiter's sweeper, the log flusher), which sleep too.
    monkeypatch.setattr(deployments_cli, "time", SimpleNamespace(sleep=between_looks))
    followed = invoke(runner, "deployments", "logs", name, "--follow", "-n", "2")
    assert followed.count(later[0]) == 1
    assert len(followed.splitlines()) == 3

    stopped = invoke(runner, "undeploy", name)
    assert f"Stopped {name}" in stopped
    assert name in invoke(runner, "deployments", "list", "--status", "stopped")


@pytest.mark.usefixtures("loading")
def test_a_deployment_that_cannot_load_prints_why_and_exits_1(app: FastAPI, runner: CliRunner) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    corrupt_payload(app, v1)

    result = runner.invoke(cli, ["deploy", v1.model, "--version", "1", "--name", "broken", "--timeout", "30"])

    assert result.exit_code == 1, result.output
    assert "Deployed" in result.output  # it exists; it only cannot answer
    assert "not ready" in result.output
    assert "Traceback" not in result.output


def words(output: str) -> str:
    """Usage errors are printed in a box, wrapped: compare the words."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", "m", "--version", "1", "--stage", "production"], "exactly one of --version"),
        (["deploy", "m"], "exactly one of --version, --stage or --alias (none was given)"),
        (["predict", "fraud", "--json", "{not json"], "--json is not valid JSON: Expecting property name"),
        (["predict", "fraud", "--json", "[1, 2]"], "list of records"),
        (["predict", "fraud"], "exactly one of --json or --file"),
    ],
)
def test_usage_mistakes_exit_2_with_what_to_fix(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in words(result.output)
    assert isinstance(result.exception, SystemExit)


def test_refusals_exit_1_with_the_servers_message(runner: CliRunner, live_url: str) -> None:
    for args, message in [
        (["deploy", "a model", "--version", "1"], "deployment name 'a model' is not usable"),
        (["deploy", "no-such-model", "--version", "1"], "model 'no-such-model' not found"),
        (["undeploy", "nope"], "deployment 'nope' not found"),
        (["deployments", "show", "nope"], "deployment 'nope' not found"),
        (["deployments", "logs", "nope"], "deployment 'nope' not found"),
        (["predict", "nope", "--json", '[{"a": 1}]'], "deployment 'nope' not found"),
    ]:
        result = runner.invoke(cli, args)
        assert (result.exit_code, isinstance(result.exception, SystemExit)) == (1, True), result.output
        assert f"error: {message}" in words(result.output)
