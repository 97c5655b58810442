"""The SDK against a live server: create, upload a DataFrame or a file, list, load (verified), diff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI

import kiln
from tests.builders.datasets import batch
from tests.builders.telemetry import START, telemetry_rules, telemetry_schema
from tests.live_server import serve


@pytest.fixture
def sdk(app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[kiln.Client]:
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        with kiln.Client(url) as client:
            yield client


def test_upload_and_load_round_trip(sdk: kiln.Client, tmp_path: Path) -> None:
    created = sdk.datasets.create("telemetry", telemetry_schema(), rules=telemetry_rules())
    assert (created.name, created.latest_version) == ("telemetry", None)
    frame = batch(48, seed=1)

    first = kiln.datasets.upload(frame, "telemetry")
    file = tmp_path / "monday.csv"
    frame.to_csv(file, index=False)
    again = sdk.datasets.upload("telemetry", file)

    assert (first.number, first.created, first.source) == (1, True, "sdk")
    assert (again.number, again.created) == (1, False)
    loaded = kiln.datasets.load("dataset:telemetry@latest")
    assert loaded["link_id"].tolist() == frame["link_id"].tolist()
    assert np.allclose(loaded["latency_ms"], frame["latency_ms"])
    second = sdk.datasets.upload("telemetry", batch(48, seed=1).iloc[:40])
    assert [version.number for version in sdk.datasets.versions("telemetry")] == [2, 1]
    assert [dataset.name for dataset in sdk.datasets.list()] == ["telemetry"]
    diff = sdk.datasets.diff("telemetry", 1, second.number)
    assert (diff.rows_added, diff.rows_removed) == (0, 8)
    assert sdk.datasets.version("telemetry@2").changes == diff


def test_a_failed_version_raises_unless_allowed(sdk: kiln.Client) -> None:
    sdk.datasets.create("telemetry", telemetry_schema(), rules=telemetry_rules())
    frame = batch(48, seed=1)
    frame.loc[frame.index[:30], "jitter_ms"] = np.nan
    sdk.datasets.upload("telemetry", frame)

    with pytest.raises(kiln.DatasetQualityFailed, match="jitter_ms"):
        kiln.datasets.load("telemetry@1")
    assert len(kiln.datasets.load("telemetry@1", allow_failed=True)) == 18
    with pytest.raises(kiln.Invalid, match="names no version"):
        kiln.datasets.load("telemetry")
    with pytest.raises(kiln.NotFound, match="dataset 'flows' not found"):
        kiln.datasets.load("flows@1")


def test_append_commit_and_review_the_quarantine(sdk: kiln.Client, tmp_path: Path) -> None:
    sdk.datasets.create(
        "telemetry", telemetry_schema(), rules=telemetry_rules(), ingestion={"every_rows": 60}
    )
    frame = batch(40, seed=1)
    frame.loc[3, "latency_ms"] = 65_535.0

    first = kiln.datasets.append(frame, "telemetry")
    # Records as a program builds them: its timestamps are datetimes (the SDK sends ISO 8601).
    records = [
        {**row, "ts": row["ts"].to_pydatetime()}
        for row in batch(20, seed=2, start=START + timedelta(days=7)).to_dict("records")
    ]
    second = sdk.datasets.append("telemetry", records)

    assert (first.rows, first.pending_rows, first.version) == (40, 40, None)
    assert second.version is not None
    assert (second.version.number, second.version.rows, second.version.quarantine.rows) == (1, 59, 1)
    [row] = sdk.datasets.quarantine("telemetry", column="latency_ms")
    assert row.reasons == ["latency_ms: 65535 is above the maximum 10000"]
    csv_file = sdk.datasets.download_quarantine("telemetry", tmp_path / "q.csv")
    assert row.id in csv_file.read_text()

    released = sdk.datasets.release("telemetry", [row.id], fixes={row.id: {"latency_ms": 20.0}}, note="fixed")
    assert (released.status, released.rows) == ("released", 1)
    assert sdk.datasets.pending("telemetry").pending_rows == 1
    version = sdk.datasets.commit("telemetry")
    assert (version.number, version.rows) == (2, 60)
    assert list(sdk.datasets.quarantine("telemetry")) == []

    with pytest.raises(kiln.InvalidState, match="no appended rows pending"):
        sdk.datasets.commit("telemetry")
    bad = [{**records[0], "temperature": 3}]
    with pytest.raises(kiln.Invalid, match="temperature"):
        kiln.datasets.append(bad, "telemetry")
    with pytest.raises(kiln.NotFound):
        sdk.datasets.discard("telemetry", ["no-such-row"])
