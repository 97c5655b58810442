"""The CLI shows and writes what others recorded without running or rendering it (review H2, L2, L3)."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from tests.builders import bearer
from tests.tracking.script_sandbox import run_script, syntax_errors
from tests.tracking.test_reproduce_safety import (
    HOSTILE_ENVIRONMENT,
    HOSTILE_NAME,
    HOSTILE_PARAM,
    PIN,
    store_environment,
)

MARKUP_NAME = "x[/nope] [link=https://attacker.example]docs[/link]"


def raw_run(live_url: str, token: str, experiment_id: str, **fields: object) -> str:
    """Created over plain HTTP, as an attacker would, not through the SDK's own checks."""
    response = httpx.post(
        f"{live_url}/api/v1/runs", json={"experiment_id": experiment_id, **fields}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class TestReproduceScriptFromHostileData:
    def test_the_reviews_reproduction_runs_nothing_injected(
        self,
        runner: CliRunner,
        client: kiln.Client,
        live_url: str,
        admin_token: str,
        app: FastAPI,
        tmp_path: Path,
    ) -> None:
        experiment = client.create_experiment("victim")
        run_id = raw_run(
            live_url, admin_token, experiment.id, name=HOSTILE_NAME, environment=HOSTILE_ENVIRONMENT
        )
        client.log_batch(run_id, params=[{"key": "lr", "value": HOSTILE_PARAM}])
        # And as an older database may hold it, recorded before pins were checked.
        store_environment(app, run_id, HOSTILE_ENVIRONMENT)
        script = tmp_path / "reproduce.sh"

        result = runner.invoke(cli, ["runs", "reproduce", run_id, "-o", str(script)])

        assert result.exit_code == 0, result.output
        assert syntax_errors(script) == ""
        ran = run_script(script, tmp_path / "sandbox")
        assert ran.returncode == 0, ran.stderr
        assert not (ran.folder / "pwn-marker").exists()
        assert [call for call in ran.calls if call[1:3] == ["-m", "pip"]] == [
            ["python", "-m", "pip", "install", "-r", "/dev/stdin"]
        ]
        pins = [line for line in ran.pip_input.splitlines() if not line.startswith("#")]
        assert pins == ["pandas==2.2.3"]
        assert all(PIN.match(pin) for pin in pins)
        assert script.stat().st_mode & 0o111 == 0  # read it first; it is not executable

    def test_the_requirements_file_never_holds_a_pip_option(
        self,
        runner: CliRunner,
        client: kiln.Client,
        live_url: str,
        admin_token: str,
        app: FastAPI,
        tmp_path: Path,
    ) -> None:
        experiment = client.create_experiment("victim")
        run_id = raw_run(live_url, admin_token, experiment.id, environment={"packages": {"pandas": "2.2.3"}})
        store_environment(app, run_id, HOSTILE_ENVIRONMENT)
        requirements = tmp_path / "requirements.txt"

        result = runner.invoke(cli, ["runs", "reproduce", run_id, "-o", str(requirements)])

        assert result.exit_code == 0, result.output
        lines = requirements.read_text().splitlines()
        assert [line for line in lines if not line.startswith("#")] == ["pandas==2.2.3"]

    def test_a_malformed_environment_still_reproduces(
        self, runner: CliRunner, client: kiln.Client, app: FastAPI, tmp_path: Path
    ) -> None:
        experiment = client.create_experiment("odd")
        run = client.create_run(experiment.id, name="odd-env")
        store_environment(app, run.id, {"command": 5, "git": "notadict", "packages": [1, 2]})

        shown = runner.invoke(cli, ["runs", "reproduce", run.id])
        written = runner.invoke(cli, ["runs", "reproduce", run.id, "-o", str(tmp_path / "r.sh")])

        assert shown.exit_code == 0, shown.output
        assert "odd-env" in shown.output
        assert written.exit_code == 0, written.output


class TestMarkupInStoredNames:
    def test_listing_and_showing_print_names_as_typed(self, runner: CliRunner, client: kiln.Client) -> None:
        experiment = client.create_experiment(f"exp {MARKUP_NAME}")
        run = client.create_run(experiment.id, name=MARKUP_NAME)
        client.log_batch(run.id, params=[{"key": "[b]k", "value": "[/]"}])
        client.upload_artifact(run.id, Path(__file__), "[red]dir")

        for command in (
            ["runs", "list", "--experiment", experiment.name],
            ["runs", "show", run.id],
            ["runs", "reproduce", run.id],
            ["runs", "compare", run.id, run.id],
            ["experiments", "list"],
            ["artifacts", "list", run.id],
        ):
            result = runner.invoke(cli, command)

            assert result.exit_code == 0, (command, result.output)
            assert "[link=https://attacker.example]docs[/link]" in result.output or command[0] == "artifacts"
        listed = runner.invoke(cli, ["artifacts", "list", run.id])
        assert "[red]dir/" in listed.output

    def test_an_error_quoting_a_stored_name_is_printed_as_text(
        self, runner: CliRunner, client: kiln.Client
    ) -> None:
        client.create_experiment(MARKUP_NAME)

        result = runner.invoke(cli, ["experiments", "create", MARKUP_NAME])

        assert result.exit_code == 1
        assert f"experiment {MARKUP_NAME!r} exists" in result.output
