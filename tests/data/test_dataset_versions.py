"""Uploading versions through the API: CSV and Parquet give the same content-addressed version, an
identical re-upload creates nothing, and each version's statistics and change summary are right."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiln.app import kiln_state
from kiln.audit.models import AuditRecord
from kiln.core import events
from kiln.data.events import DatasetVersionCreated
from tests.api import API
from tests.builders.datasets import batch, create_telemetry, csv_bytes, parquet_bytes, upload, upload_frame


def stored_files(app: FastAPI) -> list[Path]:
    root = Path(kiln_state(app).store.root) / "datasets"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


class TestUpload:
    def test_csv_and_parquet_of_the_same_rows_are_one_version(self, client: TestClient, app: FastAPI) -> None:
        create_telemetry(client)
        frame = batch(48, seed=1)

        first = upload(client, csv_bytes(frame), "monday.csv")
        again = upload(client, parquet_bytes(frame), "monday.parquet")

        assert first.status_code == 201, first.text
        assert (first.json()["number"], first.json()["created"], first.json()["ref"]) == (
            1,
            True,
            "dataset:telemetry@1",
        )
        assert again.status_code == 200, again.text
        assert (again.json()["number"], again.json()["created"]) == (1, False)
        assert again.json()["content_hash"] == first.json()["content_hash"]
        assert len(stored_files(app)) == 1
        listed = client.get(f"{API}/datasets/telemetry/versions").json()
        assert [item["number"] for item in listed["items"]] == [1]
        assert client.get(f"{API}/datasets/telemetry").json()["latest_version"] == 1

    def test_a_new_version_is_audited_and_announced(self, client: TestClient, app: FastAPI) -> None:
        create_telemetry(client)
        seen: list[DatasetVersionCreated] = []
        events.subscribe(DatasetVersionCreated, seen.append)
        try:
            version = upload_frame(client, batch(48, seed=1))
            upload_frame(client, batch(48, seed=1))  # identical: nothing new to announce
        finally:
            events.unsubscribe(DatasetVersionCreated, seen.append)
        assert [(event.dataset_name, event.number, event.rows) for event in seen] == [("telemetry", 1, 48)]
        with kiln_state(app).db.unit_of_work() as session:
            actions = list(
                session.scalars(select(AuditRecord.action).where(AuditRecord.target_id == version["id"]))
            )
        assert actions == ["dataset_version.created"]

    def test_refused_rows_are_counted_with_their_reasons(self, client: TestClient) -> None:
        create_telemetry(client)
        version = upload_frame(client, batch(50, seed=3, bad_fraction=0.2))

        assert version["rows"] == 40
        assert version["quarantine"]["rows"] == 10
        assert version["quality"]["quarantined"] == 10
        rules = {item["rule"] or item["check"] for item in version["quarantine"]["by_reason"]}
        assert {"measures_present", "no_negative_jitter", "duplicate", "category"} <= rules
        assert any(
            "jitter_ms >= 0 is false" in " ".join(reasons) for reasons in version["quarantine"]["examples"]
        )


class TestStatistics:
    def test_numbers_and_categories_are_profiled(self, client: TestClient) -> None:
        create_telemetry(client)
        frame = batch(48, seed=1)
        version = upload_frame(client, frame)

        stats = {column["name"]: column for column in version["statistics"]}
        latency = stats["latency_ms"]
        assert (latency["count"], latency["nulls"]) == (48, 0)
        assert latency["minimum"] == frame["latency_ms"].min()
        assert latency["maximum"] == frame["latency_ms"].max()
        assert abs(latency["mean"] - frame["latency_ms"].mean()) < 1e-9
        assert abs(latency["std"] - frame["latency_ms"].std()) < 1e-9
        assert abs(latency["quantiles"]["p50"] - frame["latency_ms"].median()) < 1e-9
        site = stats["site"]
        assert site["distinct"] == 6
        assert {item["value"]: item["count"] for item in site["top"]} == frame[
            "site"
        ].value_counts().to_dict()
        assert stats["ts"]["minimum"] == frame["ts"].min().isoformat()


class TestChanges:
    def test_the_summary_against_the_parent_counts_rows_by_key(self, client: TestClient) -> None:
        create_telemetry(client)
        frame = batch(48, seed=1)
        upload_frame(client, frame)
        # Six readings dropped, ten new ones (later slots), latency up by a third.
        later = batch(58, seed=1).iloc[48:]
        changed = pd.concat([frame.iloc[6:], later], ignore_index=True)
        changed["latency_ms"] = (changed["latency_ms"] * 1.33).round(2)

        second = upload_frame(client, changed)

        changes = second["changes"]
        assert (second["number"], second["parent_number"]) == (2, 1)
        assert (changes["rows_before"], changes["rows_after"]) == (48, 52)
        assert (changes["rows_added"], changes["rows_removed"], changes["matched_by"]) == (10, 6, "key")
        assert changes["columns_added"] == changes["columns_removed"] == changes["columns_retyped"] == []
        shift = next(item for item in changes["shifts"] if item["column"] == "latency_ms")
        assert shift["mean_after"] > shift["mean_before"] * 1.2
        assert shift["ks_statistic"] > 0.2

    def test_a_diff_compares_any_two_versions(self, client: TestClient) -> None:
        create_telemetry(client)
        frame = batch(48, seed=1)
        for rows in (frame.iloc[:20], frame.iloc[:30], frame):
            upload_frame(client, rows)

        diff = client.get(f"{API}/datasets/telemetry/diff", params={"from": "1", "to": "latest"})

        assert diff.status_code == 200, diff.text
        body = diff.json()
        assert (body["from_number"], body["to_number"], body["rows_added"], body["rows_removed"]) == (
            1,
            3,
            28,
            0,
        )
