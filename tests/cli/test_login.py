"""``kiln login`` saves a project-scoped API key (mode 0600) for later commands; logout revokes it."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from kiln.cli.main import app as cli
from kiln.core.db import Database
from tests.builders import TEST_PASSWORD, make_user


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KILN_CONFIG_DIR", str(tmp_path / "config"))
    # Only the saved key may authenticate these commands.
    monkeypatch.delenv("KILN_TOKEN", raising=False)
    return tmp_path / "config"


@pytest.fixture
def scientist(app: FastAPI) -> str:
    db: Database = app.state.db
    with db.unit_of_work() as session:
        make_user(session, "sam@kiln.test", role="data_scientist")
    return "sam@kiln.test"


def test_login_saves_a_private_key_that_later_commands_use(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    assert runner.invoke(cli, ["experiments", "create", "before-login"]).exit_code != 0

    result = runner.invoke(cli, ["login", "--email", scientist, "--password", TEST_PASSWORD])

    assert result.exit_code == 0, result.output
    saved = config_dir / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert "kiln_" in saved.read_text()
    created = runner.invoke(cli, ["experiments", "create", "after-login"])
    assert created.exit_code == 0, created.output
    assert "after-login" in runner.invoke(cli, ["experiments", "list"]).output


def test_logout_revokes_the_saved_key(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    runner.invoke(cli, ["login", "--email", scientist, "--password", TEST_PASSWORD])
    key = next(iter((config_dir / "credentials.json").read_text().split('"kiln_')[1:])).split('"')[0]

    assert runner.invoke(cli, ["logout"]).exit_code == 0

    answer = httpx.get(f"{live_url}/api/v1/experiments", headers={"Authorization": f"Bearer kiln_{key}"})
    assert answer.status_code == 401
    assert runner.invoke(cli, ["experiments", "list"]).exit_code != 0


def test_a_wrong_password_says_so_and_saves_nothing(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    result = runner.invoke(cli, ["login", "--email", scientist, "--password", "not the password at all"])

    assert result.exit_code == 1
    assert "invalid email or password" in result.output
    assert not (config_dir / "credentials.json").exists()
