"""``kiln jobs list|show|cancel|retry`` against a live server, and ``client.jobs`` under them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli.main import app as cli
from kiln.jobs.worker import Worker
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.jobs import make_job
from tests.jobs.handlers import ECHO, FLAKY


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_list_show_retry_and_cancel(app: FastAPI, runner: CliRunner, client: kiln.Client) -> None:
    project = default_project_id(app)
    failed = make_job(database(app), FLAKY, {"permanent": True}, project_id=project)
    Worker(database(app), kinds=[FLAKY]).run_pending()
    queued = make_job(database(app), ECHO, project_id=project)

    listed = invoke(runner, "jobs", "list", "--state", "failed")
    assert failed in listed
    assert queued not in listed
    shown = invoke(runner, "jobs", "show", failed, "--traceback")
    assert "attempt 1 on" in shown
    assert "PermanentFailure: the input is bad" in shown
    assert "Traceback" in shown

    assert "queued again (3 attempts)" in invoke(runner, "jobs", "retry", failed)
    assert client.jobs.get(failed).state == "queued"
    assert f"Job {queued} is cancelled" in invoke(runner, "jobs", "cancel", queued)
    assert [job.id for job in client.jobs.list(state="cancelled")] == [queued]


def test_cancelling_a_finished_job_says_why_not(app: FastAPI, runner: CliRunner, live_url: str) -> None:
    job_id = make_job(database(app), ECHO, project_id=default_project_id(app))
    Worker(database(app), kinds=[ECHO]).run_pending()
    result = runner.invoke(cli, ["jobs", "cancel", job_id])
    assert result.exit_code == 1
    assert "only queued or running jobs can be cancelled" in result.output


def test_an_sdk_caller_gets_the_error_class_back(app: FastAPI, client: kiln.Client) -> None:
    job_id = make_job(database(app), ECHO, project_id=default_project_id(app))
    with pytest.raises(kiln.InvalidState, match="only failed or cancelled jobs can be retried"):
        client.jobs.retry(job_id)
