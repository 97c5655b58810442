"""What a run records about where it ran, so it can be reproduced."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kiln
from kiln.client.environment import capture_environment, git_state, strip_credentials
from kiln.tracking.schemas import RunCreate


def test_run_records_interpreter_platform_packages_and_command(client: kiln.Client) -> None:
    with kiln.start_run(experiment="env") as run:
        pass
    environment = client.get_run(run.id).environment
    assert environment["python"] == platform.python_version()
    assert environment["platform"] == platform.platform()
    assert environment["command"] == sys.argv
    assert environment["packages"]["httpx"] == __import__("httpx").__version__
    assert environment["hostname"]


def test_capture_can_be_turned_off(client: kiln.Client) -> None:
    with kiln.start_run(experiment="env", capture_environment=False) as run:
        pass
    assert client.get_run(run.id).environment == {}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
class TestGitState:
    def test_commit_branch_dirty_flag_and_remote_without_credentials(self, tmp_path: Path) -> None:
        _git(tmp_path, "init", "-q", "-b", "trunk")
        (tmp_path / "train.py").write_text("print('hi')\n")
        _git(tmp_path, "add", "train.py")
        _git(tmp_path, "commit", "-q", "-m", "first")
        _git(tmp_path, "remote", "add", "origin", "https://bot:s3cret@git.example.com/ml/churn.git")

        clean = git_state(tmp_path)
        assert clean["commit"] == _git(tmp_path, "rev-parse", "HEAD")
        assert clean["branch"] == "trunk"
        assert clean["dirty"] is False
        assert clean["remote"] == "https://git.example.com/ml/churn.git"

        (tmp_path / "train.py").write_text("print('changed')\n")
        assert git_state(tmp_path)["dirty"] is True

    def test_outside_a_repository_there_is_no_git_state(self, tmp_path: Path) -> None:
        assert git_state(tmp_path) == {}


class TestSecretsStayOutOfTheRun:
    def test_credential_flag_values_are_redacted_from_the_command(
        self, client: kiln.Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        argv = ["train.py", "--hf-token=hf_abc", "--api-key", "k-123", "--DB_PASSWORD", "p", "--epochs", "3"]
        argv += ["--client-secret", "--verbose", "--key-file=~/.ssh/id"]
        monkeypatch.setattr(sys, "argv", argv)

        with kiln.start_run(experiment="env", capture_environment=True) as run:
            pass

        assert client.get_run(run.id).environment["command"] == [
            "train.py",
            "--hf-token=<redacted>",
            "--api-key",
            "<redacted>",
            "--DB_PASSWORD",
            "<redacted>",
            "--epochs",
            "3",
            "--client-secret",
            "--verbose",
            "--key-file=<redacted>",
        ]

    def test_userinfo_is_removed_up_to_the_last_at_sign(self) -> None:
        assert (
            strip_credentials("https://bot:p@ss@w0rd@git.example.com/ml.git")
            == "https://git.example.com/ml.git"
        )
        assert strip_credentials("ssh://git@host.example/a@b.git") == "ssh://host.example/a@b.git"
        assert strip_credentials("https://git.example.com/ml.git") == "https://git.example.com/ml.git"


def test_a_captured_environment_is_recorded_whole() -> None:
    """What the SDK captures always passes the server's checks, with no package left out."""
    environment = capture_environment()

    recorded = RunCreate(experiment_id="e", environment=environment).environment

    assert recorded["packages"] == environment["packages"]
    assert "warnings" not in recorded
