"""``kiln models ...`` against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from kiln.cli import output
from kiln.cli.main import app as cli
from tests.builders.registry import fitted_forest, save_folder
from tests.live_server import serve


@pytest.fixture
def runner(app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setattr(output.console, "width", 250)
    monkeypatch.setattr(output.errors, "width", 250)
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        yield CliRunner()


def test_register_list_show_search_and_download(runner: CliRunner, tmp_path: Path) -> None:
    forest, X = fitted_forest()
    folder = save_folder(forest, X, tmp_path / "model")

    registered = runner.invoke(cli, ["models", "register", "fraud_detector", str(folder), "--label", "1.0.0"])
    assert registered.exit_code == 0, registered.output
    assert "Registered fraud_detector version 1 (1.0.0): ready" in registered.output

    listed = runner.invoke(cli, ["models", "list"])
    assert "fraud_detector" in listed.output
    shown = runner.invoke(cli, ["models", "show", "fraud_detector", "1.0.0"])
    assert shown.exit_code == 0, shown.output
    assert "amount" in shown.output
    assert "model.skops" in shown.output
    found = runner.invoke(cli, ["models", "search", "label = '1.0.0'"])
    assert "fraud_detector" in found.output

    out = tmp_path / "backup"
    downloaded = runner.invoke(cli, ["models", "download", "fraud_detector", "1", "--out", str(out)])
    assert downloaded.exit_code == 0, downloaded.output
    assert "checksums verified" in downloaded.output
    assert (out / "model.skops").read_bytes() == (folder / "model.skops").read_bytes()
    assert (out / "kiln-model.json").is_file()


def test_a_duplicate_label_is_reported_with_the_next_free_one(runner: CliRunner, tmp_path: Path) -> None:
    forest, X = fitted_forest()
    folder = save_folder(forest, X, tmp_path / "model")
    assert (
        runner.invoke(cli, ["models", "register", "fraud_detector", str(folder), "-l", "1.0.0"]).exit_code
        == 0
    )
    again = runner.invoke(cli, ["models", "register", "fraud_detector", str(folder), "-l", "1.0.0"])
    assert again.exit_code != 0
    assert "1.0.1" in again.output
