"""What a run records about where it ran, so it can be reproduced."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kiln
from kiln.client.environment import git_state


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
