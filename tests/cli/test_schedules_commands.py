"""``kiln jobs schedule create|list|show|disable|enable|delete`` against a live server, and
``client.schedules`` under them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from tests.jobs.handlers import ECHO


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_create_list_show_disable_enable_delete(app: FastAPI, runner: CliRunner, client: kiln.Client) -> None:
    created = invoke(
        runner,
        "jobs", "schedule", "create", "nightly", "0 2 * * *",
        "--kind", ECHO, "--tz", "Europe/Paris", "--catch-up", "once", "--payload", '{"dataset": "telemetry"}',
    )  # fmt: skip
    [schedule] = list(client.schedules.list())
    assert (schedule.name, schedule.time_zone, schedule.catch_up) == ("nightly", "Europe/Paris", "once")
    assert schedule.payload == {"dataset": "telemetry"}
    # The next fire shows in the schedule's own zone: 02:00 Paris time.
    assert "02:00 Europe/Paris" in created
    assert "02:00 Europe/Paris" in invoke(runner, "jobs", "schedule", "list")
    assert "telemetry" in invoke(runner, "jobs", "schedule", "show", schedule.id)

    assert "disabled" in invoke(runner, "jobs", "schedule", "disable", schedule.id)
    assert client.schedules.get(schedule.id).next_fire_at is None
    assert "02:00 Europe/Paris" in invoke(runner, "jobs", "schedule", "enable", schedule.id)
    assert client.schedules.get(schedule.id).enabled

    assert "deleted" in invoke(runner, "jobs", "schedule", "delete", schedule.id)
    assert list(client.schedules.list()) == []


def test_a_bad_expression_is_refused_naming_it(runner: CliRunner, live_url: str) -> None:
    result = runner.invoke(cli, ["jobs", "schedule", "create", "nightly", "0 2 * *", "--kind", ECHO])
    assert result.exit_code == 1
    assert "'0 2 * *' needs five fields" in result.output


def test_an_sdk_caller_gets_the_error_classes_back(client: kiln.Client) -> None:
    project = next(iter(client.projects.iter())).id
    with pytest.raises(kiln.ValidationFailed, match="time zone 'Mars/Olympus' is not known"):
        client.schedules.create("n", "0 2 * * *", kind=ECHO, time_zone="Mars/Olympus", project_id=project)
    with pytest.raises(kiln.Invalid, match="unknown job kind 'nope'"):
        client.schedules.create("n", "0 2 * * *", kind="nope", project_id=project)
    schedule = client.schedules.create("n", "0 2 * * *", kind=ECHO, project_id=project)
    with pytest.raises(kiln.Conflict, match="exists in this project"):
        client.schedules.create("n", "0 3 * * *", kind=ECHO, project_id=project)
    assert client.schedules.update(schedule.id, catch_up="all").catch_up == "all"
