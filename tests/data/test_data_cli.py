"""``kiln data ...`` against a live server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from kiln.cli import output
from kiln.cli.main import app as cli
from tests.builders.datasets import batch
from tests.builders.telemetry import telemetry_rules, telemetry_schema
from tests.live_server import serve


@pytest.fixture
def runner(app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setattr(output.console, "width", 250)
    monkeypatch.setattr(output.errors, "width", 250)
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        yield CliRunner()


def test_create_upload_inspect_and_diff(runner: CliRunner, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(telemetry_schema().model_dump_json())
    rules = tmp_path / "rules.json"
    rules.write_text(telemetry_rules().model_dump_json())
    monday, tuesday = tmp_path / "monday.csv", tmp_path / "tuesday.csv"
    batch(48, seed=1, bad_fraction=0.04).to_csv(monday, index=False)
    batch(48, seed=1).iloc[:30].to_csv(tuesday, index=False)

    created = runner.invoke(
        cli, ["data", "create", "telemetry", "--schema", str(schema), "--rules", str(rules)]
    )
    assert created.exit_code == 0, created.output
    assert "Created dataset telemetry (10 columns)" in created.output
    first = runner.invoke(cli, ["data", "upload", "telemetry", str(monday)])
    assert first.exit_code == 0, first.output
    assert "Created dataset:telemetry@1: 46 rows, 2 quarantined, quality passed" in first.output
    same = runner.invoke(cli, ["data", "upload", "telemetry", str(monday)])
    assert "Unchanged: the data is already dataset:telemetry@1" in same.output
    second = runner.invoke(cli, ["data", "upload", "telemetry", str(tuesday)])
    assert "Created dataset:telemetry@2" in second.output

    listed = runner.invoke(cli, ["data", "list"])
    assert "telemetry" in listed.output
    versions = runner.invoke(cli, ["data", "versions", "telemetry"])
    assert versions.output.index("dataset:telemetry@2") < versions.output.index("dataset:telemetry@1")
    shown = runner.invoke(cli, ["data", "show", "telemetry@2"])
    assert shown.exit_code == 0, shown.output
    assert "latency_ms" in shown.output
    assert "Changes v1 -> v2: 46 -> 30 rows" in shown.output
    diff = runner.invoke(cli, ["data", "diff", "telemetry", "1", "2"])
    assert "matched by key" in diff.output


def test_errors_are_one_clear_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "schema.json"
    bad.write_text("{not json")
    refused = runner.invoke(cli, ["data", "create", "telemetry", "--schema", str(bad)])
    assert refused.exit_code != 0
    assert "is not readable JSON" in refused.output
    missing = runner.invoke(cli, ["data", "show", "telemetry"])
    assert missing.exit_code != 0
    assert "names no version" in missing.output
    schema = tmp_path / "ok.json"
    schema.write_text(json.dumps(telemetry_schema().model_dump(mode="json")))
    runner.invoke(cli, ["data", "create", "telemetry", "--schema", str(schema)])
    gone = runner.invoke(cli, ["data", "show", "telemetry@3"])
    assert "dataset 'telemetry' has no version 3" in gone.output


def test_append_commit_and_review_the_quarantine(runner: CliRunner, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(telemetry_schema().model_dump_json())
    rules = tmp_path / "rules.json"
    rules.write_text(telemetry_rules().model_dump_json())
    frame = batch(30, seed=1)
    frame.loc[4, "site"] = "xx"
    frame.loc[9, "latency_ms"] = 65_535.0
    readings = tmp_path / "readings.csv"
    frame.to_csv(readings, index=False)
    runner.invoke(cli, ["data", "create", "telemetry", "--schema", str(schema), "--rules", str(rules)])

    appended = runner.invoke(cli, ["data", "append", str(readings), "--dataset", "telemetry"])
    assert appended.exit_code == 0, appended.output
    assert "Appended 30 rows to telemetry" in appended.output
    assert "30 rows pending" in runner.invoke(cli, ["data", "pending", "telemetry"]).output
    committed = runner.invoke(cli, ["data", "commit", "telemetry"])
    assert "Created dataset:telemetry@1: 28 rows, 2 quarantined" in committed.output, committed.output

    listed = runner.invoke(cli, ["data", "quarantine", "list", "telemetry"])
    assert listed.exit_code == 0, listed.output
    assert "site: 'xx' is not an allowed category" in listed.output
    assert "2 rows" in listed.output
    download = tmp_path / "quarantine.csv"
    runner.invoke(cli, ["data", "quarantine", "download", "telemetry", str(download)])
    lines = download.read_text().splitlines()
    assert len(lines) == 3
    by_site = {line.split(",")[0]: line for line in lines[1:]}
    site_row = next(row_id for row_id, line in by_site.items() if "category" in line)
    latency_row = next(row_id for row_id in by_site if row_id != site_row)

    fixes = tmp_path / "fixes.json"
    fixes.write_text(json.dumps({site_row: {"site": "ams"}}))
    released = runner.invoke(
        cli, ["data", "quarantine", "release", "telemetry", site_row, "--fixes", str(fixes), "-n", "typo"]
    )
    assert released.exit_code == 0, released.output
    assert "Released 1 rows" in released.output
    discarded = runner.invoke(cli, ["data", "quarantine", "discard", "telemetry", latency_row])
    assert "Discarded 1 rows" in discarded.output
    second = runner.invoke(cli, ["data", "commit", "telemetry"])
    assert "Created dataset:telemetry@2: 29 rows, 0 quarantined" in second.output, second.output

    again = runner.invoke(cli, ["data", "quarantine", "discard", "telemetry", latency_row])
    assert again.exit_code != 0
    assert "discarded already" in again.output
    nothing = runner.invoke(cli, ["data", "commit", "telemetry"])
    assert nothing.exit_code != 0
    assert "no appended rows pending" in nothing.output
