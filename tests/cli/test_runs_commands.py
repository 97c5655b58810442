"""``kiln experiments`` and ``kiln runs`` against a live server."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app
from kiln.tracking.schemas import RunRead


def make_run(client: kiln.Client, experiment_id: str, name: str, lr: str, accuracy: float) -> RunRead:
    run = client.create_run(
        experiment_id,
        name=name,
        source="/src/train.py",
        environment={
            "python": "3.11.7",
            "platform": "Linux-6.1-x86_64",
            "command": ["train.py", "--epochs", "3"],
            "packages": {"scikit-learn": "1.5.2", "numpy": "2.1.0"},
            "git": {
                "commit": "0123abcd",
                "branch": "main",
                "dirty": True,
                "remote": "https://git.example/ml.git",
            },
        },
        inputs=[{"name": "customers", "version": "3", "digest": "sha256:ff00"}],
    )
    client.log_batch(
        run.id,
        params=[{"key": "lr", "value": lr}, {"key": "epochs", "value": "3"}],
        metrics=[{"key": "accuracy", "value": accuracy}],
    )
    client.update_run(run.id, status="finished")
    return run


@pytest.fixture
def two_runs(client: kiln.Client) -> tuple[RunRead, RunRead]:
    experiment = client.create_experiment("churn")
    return (
        make_run(client, experiment.id, "slow", "0.01", 0.81),
        make_run(client, experiment.id, "fast", "0.1", 0.93),
    )


class TestExperiments:
    def test_create_then_list(self, runner: CliRunner, live_url: str) -> None:
        created = runner.invoke(app, ["experiments", "create", "fraud", "-d", "card fraud"])
        assert created.exit_code == 0, created.output
        assert "Created experiment fraud" in created.output
        listed = runner.invoke(app, ["experiments", "list"])
        assert listed.exit_code == 0
        assert "fraud" in listed.output
        assert "card fraud" in listed.output

    def test_duplicate_name_prints_the_api_message_and_exits_1(
        self, runner: CliRunner, live_url: str
    ) -> None:
        runner.invoke(app, ["experiments", "create", "fraud"])
        again = runner.invoke(app, ["experiments", "create", "fraud"])
        assert again.exit_code == 1
        assert "error: experiment 'fraud' exists" in again.output
        assert "Traceback" not in again.output


class TestRuns:
    def test_list_shows_runs_and_honours_filter_and_order(
        self, runner: CliRunner, two_runs: tuple[RunRead, RunRead]
    ) -> None:
        slow, fast = two_runs
        listed = runner.invoke(
            app, ["runs", "list", "--experiment", "churn", "--order-by", "metrics.accuracy DESC"]
        )
        assert listed.exit_code == 0, listed.output
        assert listed.output.index(fast.id) < listed.output.index(slow.id)
        assert "accuracy=0.93" in listed.output
        assert "2 of 2 run(s)" in listed.output

        filtered = runner.invoke(app, ["runs", "list", "-f", "metrics.accuracy > 0.9"])
        assert fast.id in filtered.output
        assert slow.id not in filtered.output

    def test_bad_filter_reports_the_api_error(self, runner: CliRunner, live_url: str) -> None:
        result = runner.invoke(app, ["runs", "list", "--filter", "metrics.accuracy >>> 1"])
        assert result.exit_code == 1
        assert result.output.startswith("error: ")
        assert "Traceback" not in result.output

    def test_show_prints_params_metrics_and_artifacts(
        self, runner: CliRunner, client: kiln.Client, tmp_path: Path
    ) -> None:
        source = tmp_path / "notes.txt"
        source.write_text("hello")
        with kiln.start_run(experiment="show", name="shown") as run:
            run.log_params({"lr": 0.1})
            run.log_metric("loss", 0.25)
            run.set_tag("team", "risk")
            run.log_artifact(source, "docs")
        shown = runner.invoke(app, ["runs", "show", run.id])
        assert shown.exit_code == 0, shown.output
        for expected in ("shown", "finished", "lr", "0.1", "loss", "0.25", "team", "risk", "docs/notes.txt"):
            assert expected in shown.output

    def test_show_unknown_run_is_an_error_without_traceback(self, runner: CliRunner, live_url: str) -> None:
        result = runner.invoke(app, ["runs", "show", "no-such-run"])
        assert result.exit_code == 1
        assert "error: run 'no-such-run' not found" in result.output
        assert "Traceback" not in result.output

    def test_compare_lines_up_params_and_metrics(
        self, runner: CliRunner, two_runs: tuple[RunRead, RunRead]
    ) -> None:
        slow, fast = two_runs
        result = runner.invoke(app, ["runs", "compare", slow.id, fast.id])
        assert result.exit_code == 0, result.output
        assert "params.lr" in result.output
        assert "metrics.accuracy" in result.output
        assert "Differing params: lr" in result.output
        line = next(line for line in result.output.splitlines() if "params.lr" in line)
        assert line.index("0.01") < line.index("0.1 ")


class TestReproduce:
    def test_prints_what_is_needed_with_a_dirty_tree_warning(
        self, runner: CliRunner, two_runs: tuple[RunRead, RunRead]
    ) -> None:
        result = runner.invoke(app, ["runs", "reproduce", two_runs[0].id])
        assert result.exit_code == 0, result.output
        for expected in (
            "3.11.7",
            "Linux-6.1-x86_64",
            "0123abcd",
            "python train.py --epochs 3",
            "customers",
            "lr",
        ):
            assert expected in result.output
        assert "uncommitted changes" in result.output

    def test_writes_a_shell_script(
        self, runner: CliRunner, two_runs: tuple[RunRead, RunRead], tmp_path: Path
    ) -> None:
        script = tmp_path / "rerun.sh"
        result = runner.invoke(app, ["runs", "reproduce", two_runs[1].id, "--output", str(script)])
        assert result.exit_code == 0, result.output
        text = script.read_text()
        assert text.startswith("#!/bin/sh")
        assert "git clone -- https://git.example/ml.git kiln-reproduce" in text
        assert "git checkout 0123abcd" in text
        assert "WARNING: the working tree had uncommitted changes" in text
        assert "scikit-learn==1.5.2" in text
        assert "#   lr = 0.1" in text
        assert "#   customers, version 3, digest sha256:ff00" in text
        assert text.rstrip().endswith("python train.py --epochs 3")
        # Not executable: it is read first, and the command says so.
        assert script.stat().st_mode & 0o777 == 0o644
        assert f"Review it, then run it with: sh {script}" in result.output

    def test_writes_requirements_of_a_real_run(
        self, runner: CliRunner, client: kiln.Client, tmp_path: Path
    ) -> None:
        with kiln.start_run(experiment="real") as run:
            run.log_input("train.csv", version="2")
        requirements = tmp_path / "requirements.txt"
        result = runner.invoke(app, ["runs", "reproduce", run.id, "-o", str(requirements)])
        assert result.exit_code == 0, result.output
        lines = requirements.read_text().splitlines()
        assert f"# Python {platform.python_version()} on {platform.platform()}" in lines
        assert f"httpx=={__import__('httpx').__version__}" in lines
        shown = runner.invoke(app, ["runs", "reproduce", run.id])
        assert "train.csv" in shown.output  # an input logged after creation is listed too
