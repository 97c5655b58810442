"""Comparing versions from the SDK and the CLI against a live server: the same comparison, exports
written to files, and a table otherwise."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

import kiln
from kiln.cli import output
from kiln.cli.main import app as cli
from kiln.storage.store import ArtifactStore
from tests.builders.registry import make_version_from_run
from tests.live_server import serve
from tests.registry.conftest import Committed


@pytest.fixture
def url(app: FastAPI, committed: Committed, store: ArtifactStore) -> Iterator[str]:
    """A live server holding fraud_detector 1.0.0 (100 trees, auc 0.81) and 2 (200 trees, auc 0.86)."""
    with committed() as session:
        make_version_from_run(session, store, label="1.0.0", n_estimators=100, metrics={"auc": 0.81})
        make_version_from_run(session, store, n_estimators=200, metrics={"auc": 0.86})
    with serve(app) as live:
        yield live


class TestSdk:
    def test_compare_answers_the_comparison(self, url: str, admin_token: str) -> None:
        with kiln.Client(url, token=admin_token) as client:
            comparison = client.models.compare(["fraud_detector:1.0.0", ("fraud_detector", 2)])
            same = client.models.compare([1, 2], model="fraud_detector")

        assert [version.number for version in comparison.versions] == [1, 2]
        trees = next(row for row in comparison.params if row.key == "n_estimators")
        assert (trees.values, trees.differs) == (["100", "200"], True)
        assert next(row for row in same.metrics if row.key == "auc").best == [1]

    def test_compare_export_writes_csv_and_html(self, url: str, admin_token: str, tmp_path: Path) -> None:
        with kiln.Client(url, token=admin_token) as client:
            written = client.models.compare_export(
                [1, 2], model="fraud_detector", format="csv", path=tmp_path / "c.csv"
            )
            report = client.models.compare_export(
                [1, 2], model="fraud_detector", format="html", path=tmp_path / "c.html"
            )

        rows = list(csv.reader(written.open(encoding="utf-8")))
        assert ["params", "n_estimators", "yes", "100", "200", ""] in rows
        assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    def test_an_unknown_version_raises_not_found_naming_it(self, url: str, admin_token: str) -> None:
        with (
            kiln.Client(url, token=admin_token) as client,
            pytest.raises(kiln.NotFound, match="fraud_detector:7"),
        ):
            client.models.compare([1, 7], model="fraud_detector")


class TestCli:
    @pytest.fixture
    def runner(self, url: str, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
        monkeypatch.setattr(output.console, "width", 250)
        monkeypatch.setattr(output.errors, "width", 250)
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        return CliRunner()

    def test_compare_prints_a_table_marking_differences(self, runner: CliRunner) -> None:
        result = runner.invoke(cli, ["models", "compare", "fraud_detector", "1", "2"])

        assert result.exit_code == 0, result.output
        line = next(line for line in result.output.splitlines() if "param n_estimators" in line)
        assert "≠" in line
        assert "100" in line
        assert "200" in line
        assert "metric auc" in result.output
        assert "Significance: not available" in result.output

    def test_compare_writes_csv_or_html(self, runner: CliRunner, tmp_path: Path) -> None:
        as_csv = runner.invoke(
            cli, ["models", "compare", "fraud_detector", "1", "2", "--csv", str(tmp_path / "c.csv")]
        )
        as_html = runner.invoke(
            cli, ["models", "compare", "fraud_detector", "1.0.0", "2", "--html", str(tmp_path / "c.html")]
        )

        assert as_csv.exit_code == 0, as_csv.output
        assert as_html.exit_code == 0, as_html.output
        assert "n_estimators" in (tmp_path / "c.csv").read_text(encoding="utf-8")
        assert "<style>" in (tmp_path / "c.html").read_text(encoding="utf-8")

    def test_one_version_is_refused_saying_how_many(self, runner: CliRunner) -> None:
        result = runner.invoke(cli, ["models", "compare", "fraud_detector", "1"])

        assert result.exit_code != 0
        assert "between 2 and 20" in result.output
