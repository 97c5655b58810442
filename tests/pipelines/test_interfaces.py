"""The SDK (``kiln.pipelines.register/run/get``) and ``kiln pipelines ...`` against a live server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from kiln.pipelines.errors import PipelineDefinitionInvalid, PipelineParametersInvalid
from tests.builders.pipelines import run_jobs
from tests.pipelines.test_registering import TRAINING_YAML

STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO ")


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


class TestSdk:
    def test_register_run_and_read_back(self, app: FastAPI, live_url: str, sdk: kiln.Client) -> None:
        registered = kiln.pipelines.register(examples.fan_out)
        assert (registered.pipeline, registered.number, registered.created) == ("fan_out", 1, True)
        assert kiln.pipelines.register("examples.pipelines:fan_out").created is False
        run = kiln.pipelines.run("fan_out", {"seconds": 0})
        assert run.state == "queued"
        run_jobs(app)
        done = kiln.pipelines.get("fan_out", run.id)
        assert done.state == "succeeded"
        assert [step.state for step in done.steps] == ["succeeded"] * 3
        assert kiln.pipelines.wait("fan_out", run.id).id == run.id
        assert [item.id for item in sdk.pipelines.runs("fan_out")] == [run.id]

    def test_errors_arrive_as_their_classes(self, live_url: str, sdk: kiln.Client) -> None:
        sdk.pipelines.register(examples.fan_out)
        with pytest.raises(PipelineParametersInvalid, match="seconds must be at most 60"):
            kiln.pipelines.run("fan_out", {"seconds": 600})
        cyclic = {
            "name": "cyclic",
            "steps": [
                {"name": "a", "function": "examples.pipelines:gather", "needs": ["b"]},
                {"name": "b", "function": "examples.pipelines:gather", "needs": ["a"]},
            ],
        }
        with pytest.raises(PipelineDefinitionInvalid, match="in a cycle"):
            sdk.pipelines.register(cyclic)


class TestCli:
    def test_register_list_show_diff_run_and_logs(
        self, app: FastAPI, live_url: str, runner: CliRunner, tmp_path: Path
    ) -> None:
        definition = tmp_path / "training.yaml"
        definition.write_text(TRAINING_YAML)
        assert "registered as version 1" in invoke(runner, "pipelines", "register", str(definition))
        definition.write_text(TRAINING_YAML.replace("retries: 1", "retries: 2"))
        assert "registered as version 2" in invoke(runner, "pipelines", "register", str(definition))
        assert "unchanged: still version 2" in invoke(runner, "pipelines", "register", str(definition))

        assert "training" in invoke(runner, "pipelines", "list")
        shown = invoke(runner, "pipelines", "show", "training")
        assert "version 2 of 2" in shown
        assert "examples.pipelines:pick_best" in shown
        assert "~ step validate.retries: 1 -> 2" in invoke(runner, "pipelines", "diff", "training", "1", "2")

        refused = runner.invoke(cli, ["pipelines", "run", "training", "-p", "rows=3"])
        assert refused.exit_code == 1
        assert "rows must be at least 10" in refused.output

        started = invoke(runner, "pipelines", "run", "training", "-p", "rows=200", "-p", "alpha=0.25")
        run_id = re.search(r"Run (\S+) of training v2 is queued", started)
        assert run_id is not None, started
        run_jobs(app)
        status = invoke(runner, "pipelines", "status", "training", run_id[1])
        assert "succeeded" in status
        assert "pick_best" in status
        logs = invoke(runner, "pipelines", "logs", "training", run_id[1], "--step", "make_data", "--follow")
        [line] = [line for line in logs.splitlines() if line.endswith("made 200 rows")]
        assert STAMPED.match(line.removeprefix("make_data | [attempt 1] ")), line
