"""``kiln login`` saves a project-scoped API key (mode 0600) for later commands; logout revokes it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.app import kiln_state
from kiln.cli.main import app as cli
from kiln.core.db import Database
from tests.builders.auth import PASSWORD, make_user


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KILN_CONFIG_DIR", str(tmp_path / "config"))
    # Only the saved key may authenticate these commands.
    monkeypatch.delenv("KILN_TOKEN", raising=False)
    return tmp_path / "config"


def _saved_key_id(url: str, config_dir: Path, email: str) -> str:
    key = json.loads((config_dir / "credentials.json").read_text())[url]
    with kiln.Client(url) as anonymous:
        access = anonymous.auth.login(email, PASSWORD).access_token
    with kiln.Client(url, token=access) as client:
        return next(item.id for item in client.api_keys.list() if key.startswith(item.prefix))


@pytest.fixture
def scientist(app: FastAPI) -> str:
    db: Database = kiln_state(app).db
    with db.unit_of_work() as session:
        make_user(session, "sam@kiln.test", role="data_scientist", project_role="data_scientist")
    return "sam@kiln.test"


def test_login_saves_a_private_key_that_later_commands_use(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    assert runner.invoke(cli, ["experiments", "create", "before-login"]).exit_code != 0

    result = runner.invoke(cli, ["login", "--email", scientist, "--password", PASSWORD])

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
    runner.invoke(cli, ["login", "--email", scientist, "--password", PASSWORD])
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


def test_the_url_option_names_the_server_to_log_in_to(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_URL", "http://127.0.0.1:9")

    result = runner.invoke(cli, ["--url", live_url, "login", "--email", scientist, "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert f"logged in to {live_url}" in result.output
    assert live_url in (config_dir / "credentials.json").read_text()


def test_a_project_you_do_not_belong_to_is_refused_and_nothing_is_saved(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    result = runner.invoke(cli, ["login", "--email", scientist, "--password", PASSWORD, "--project", "ghost"])

    assert result.exit_code == 1
    assert "you are not a member of a project 'ghost'" in result.output
    assert not (config_dir / "credentials.json").exists()


def test_projects_and_keys_are_listed_and_a_key_can_be_revoked(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    runner.invoke(cli, ["login", "--email", scientist, "--password", PASSWORD])

    projects = runner.invoke(cli, ["projects", "list"])
    # Managing keys needs the password: a key may not manage its owner's other keys.
    keys = runner.invoke(cli, ["keys", "list", "--email", scientist, "--password", PASSWORD])

    assert projects.exit_code == 0, projects.output
    assert "default" in projects.output
    assert "data_scientist" in projects.output
    assert keys.exit_code == 0, keys.output
    key_id = next(
        word for line in keys.output.splitlines() if "cli@" in line for word in line.split("│")[1:2]
    )
    revoked = runner.invoke(
        cli, ["keys", "revoke", key_id.strip(), "--email", scientist, "--password", PASSWORD]
    )
    assert revoked.exit_code == 0, revoked.output
    assert runner.invoke(cli, ["experiments", "list"]).exit_code != 0


def test_revoking_an_unknown_key_prints_the_servers_message(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    runner.invoke(cli, ["login", "--email", scientist, "--password", PASSWORD])

    result = runner.invoke(
        cli, ["keys", "revoke", "no-such-key", "--email", scientist, "--password", PASSWORD]
    )

    assert result.exit_code == 1
    assert "error: API key 'no-such-key' not found" in result.output


def test_logout_forgets_a_key_that_no_longer_works(
    runner: CliRunner, live_url: str, config_dir: Path, scientist: str
) -> None:
    runner.invoke(cli, ["login", "--email", scientist, "--password", PASSWORD])
    key_id = _saved_key_id(live_url, config_dir, scientist)
    runner.invoke(cli, ["keys", "revoke", key_id, "--email", scientist, "--password", PASSWORD])

    result = runner.invoke(cli, ["logout"])

    assert result.exit_code == 0, result.output
    assert f"logged out of {live_url}" in result.output
    assert "kiln_" not in (config_dir / "credentials.json").read_text()
