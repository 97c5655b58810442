"""The quarantine of appended rows: every refused row is kept with its reasons, reviewers list,
filter and download them, release them (fixed) into the next version or discard them, and every
decision is audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiln.audit.models import AuditRecord
from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from tests.api import API
from tests.builders.auth import access_token, api, make_account, make_member
from tests.builders.core import database
from tests.builders.datasets import append, append_frame, batch, commit, create_telemetry, records_of
from tests.builders.telemetry import START

QUARANTINE = f"{API}/datasets/telemetry/quarantine"


def readings(rows: int, part: int) -> list[dict[str, Any]]:
    return records_of(batch(rows, seed=part, start=START + timedelta(days=7 * part)))


def spoiled_batch() -> list[dict[str, Any]]:
    """40 readings, three of them refused: out of range, an unknown site, negative jitter."""
    records = readings(40, 2)
    records[2]["latency_ms"] = 65_535.0
    records[5]["site"] = "xx"
    records[7]["jitter_ms"] = -1.5
    return records


def listed(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    answer = client.get(QUARANTINE, params=filters)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def quarantined(client: TestClient) -> dict[int, dict[str, Any]]:
    """The spoiled batch appended after a clean version and committed: its pending quarantine by row."""
    create_telemetry(client)
    append_frame(client, batch(20, seed=1, start=START + timedelta(days=7)))
    assert commit(client).status_code == 201
    assert append(client, spoiled_batch()).status_code == 201
    made = commit(client)
    assert made.status_code == 201, made.text
    assert (made.json()["rows"], made.json()["quarantine"]["rows"]) == (20 + 37, 3)
    return {item["row_number"]: item for item in listed(client)}


def audit_actions(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    with database(app).unit_of_work() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.details)
            .where(AuditRecord.action.like("dataset_quarantine.%"))
            .order_by(AuditRecord.seq)
        ).all()
    return [(action, dict(details or {})) for action, details in rows]


class TestRefusedRowsAreKept:
    def test_each_row_with_its_reasons_and_where_it_came_from(self, client: TestClient) -> None:
        rows = quarantined(client)

        assert sorted(rows) == [2, 5, 7]
        assert rows[2]["reasons"] == ["latency_ms: 65535 is above the maximum 10000"]
        assert rows[5]["reasons"] == ["site: 'xx' is not an allowed category"]
        assert any("jitter_ms >= 0" in reason for reason in rows[7]["reasons"])
        assert {item["status"] for item in rows.values()} == {"pending"}
        assert {item["version_number"] for item in rows.values()} == {2}
        assert rows[2]["data"]["latency_ms"] == 65_535.0
        assert rows[5]["data"]["site"] == "xx"

    def test_filters_by_column_check_rule_status_and_version(self, client: TestClient) -> None:
        rows = quarantined(client)

        assert [item["id"] for item in listed(client, column="latency_ms")] == [rows[2]["id"]]
        assert [item["id"] for item in listed(client, check="category")] == [rows[5]["id"]]
        assert [item["id"] for item in listed(client, rule="no_negative_jitter")] == [rows[7]["id"]]
        assert len(listed(client, version=2)) == 3
        assert listed(client, version=1) == []
        assert listed(client, status="released") == []
        page = client.get(QUARANTINE, params={"limit": 2}).json()
        assert len(page["items"]) == 2
        assert page["next_cursor"]
        rest = client.get(QUARANTINE, params={"limit": 2, "cursor": page["next_cursor"]}).json()
        assert len(rest["items"]) == 1

    def test_bad_filters_are_a_4xx(self, client: TestClient) -> None:
        create_telemetry(client)
        for params in ({"status": "maybe"}, {"version": 0}, {"limit": -1}, {"cursor": "garbage!"}):
            answer = client.get(QUARANTINE, params=params)
            assert answer.status_code in (400, 422), (params, answer.text)

    def test_download_is_csv_with_reasons_and_values(self, client: TestClient) -> None:
        rows = quarantined(client)
        answer = client.get(f"{QUARANTINE}/download", params={"column": "latency_ms"})

        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        assert "telemetry-quarantine.csv" in answer.headers["content-disposition"]
        [row] = list(csv.DictReader(io.StringIO(answer.text)))
        assert row["quarantine_id"] == rows[2]["id"]
        assert row["reasons"] == "latency_ms: 65535 is above the maximum 10000"
        assert float(row["latency_ms"]) == 65_535.0
        everything = list(csv.DictReader(io.StringIO(client.get(f"{QUARANTINE}/download").text)))
        assert len(everything) == 3


class TestRelease:
    def test_a_fixed_row_joins_the_next_version(self, app: FastAPI, client: TestClient) -> None:
        rows = quarantined(client)
        fixed = rows[2]["id"]

        answer = client.post(
            f"{QUARANTINE}/release",
            json={"ids": [fixed], "fixes": {fixed: {"latency_ms": 31.5}}, "note": "timeout sentinel"},
        )
        assert answer.status_code == 200, answer.text
        assert (answer.json()["status"], answer.json()["rows"], answer.json()["ids"]) == (
            "released",
            1,
            [fixed],
        )
        made = commit(client)
        assert made.status_code == 201, made.text
        assert (made.json()["number"], made.json()["rows"], made.json()["quarantine"]["rows"]) == (3, 58, 0)

        stored = pd.read_parquet(
            io.BytesIO(client.get(f"{API}/datasets/telemetry/versions/3/download").content)
        )
        original = rows[2]["data"]
        match = stored[(stored["link_id"] == original["link_id"]) & (stored["latency_ms"] == 31.5)]
        assert len(match) == 1
        [released] = listed(client, status="released")
        assert (released["id"], released["fixed"], released["note"]) == (
            fixed,
            {"latency_ms": 31.5},
            "timeout sentinel",
        )
        assert released["decided_by"]
        assert len(listed(client)) == 2
        [(action, details)] = audit_actions(app)
        assert action == "dataset_quarantine.released"
        assert (details["ids"], details["fixed"], details["note"]) == ([fixed], [fixed], "timeout sentinel")

    def test_a_row_released_unfixed_that_still_fails_returns_to_the_quarantine(
        self, client: TestClient
    ) -> None:
        rows = quarantined(client)
        answer = client.post(f"{QUARANTINE}/release", json={"ids": [rows[5]["id"]]})
        assert answer.status_code == 200, answer.text
        made = commit(client)
        assert made.status_code in (200, 201), made.text

        again = listed(client, check="category")
        assert len(again) == 1
        assert again[0]["id"] != rows[5]["id"]
        assert again[0]["source"] == "ingestion"
        assert again[0]["data"]["site"] == "xx"

    def test_release_refuses_bad_requests_naming_the_problem(self, client: TestClient) -> None:
        rows = quarantined(client)
        one = rows[2]["id"]
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"ids": []}, 422, "ids"),
            ({"ids": ["no-such-row"]}, 404, "no-such-row"),
            ({"ids": [one], "fixes": {rows[5]["id"]: {"site": "ams"}}}, 400, rows[5]["id"]),
            ({"ids": [one], "fixes": {one: {"temperature": 1}}}, 400, "temperature"),
            ({"ids": [one], "fixes": {one: {"latency_ms": {"a": 1}}}}, 422, "latency_ms"),
            ({"ids": [one], "surprise": True}, 422, "surprise"),
        ]
        for body, code, fragment in cases:
            answer = client.post(f"{QUARANTINE}/release", json=body)
            assert answer.status_code == code, (body, answer.text)
            assert fragment in answer.text, (body, answer.text)
        assert len(listed(client)) == 3  # nothing was decided


class TestDiscard:
    def test_discarded_rows_stay_listed_and_are_audited(self, app: FastAPI, client: TestClient) -> None:
        rows = quarantined(client)
        ids = [rows[5]["id"], rows[7]["id"]]

        answer = client.post(f"{QUARANTINE}/discard", json={"ids": ids, "note": "bad probe"})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["status"], answer.json()["rows"]) == ("discarded", 2)
        assert sorted(item["id"] for item in listed(client, status="discarded")) == sorted(ids)
        assert [item["id"] for item in listed(client)] == [rows[2]["id"]]
        [(action, details)] = audit_actions(app)
        assert (action, sorted(details["ids"]), details["note"]) == (
            "dataset_quarantine.discarded",
            sorted(ids),
            "bad probe",
        )

    def test_a_row_is_decided_once(self, client: TestClient) -> None:
        rows = quarantined(client)
        one = rows[5]["id"]
        assert client.post(f"{QUARANTINE}/discard", json={"ids": [one]}).status_code == 200

        twice = client.post(f"{QUARANTINE}/discard", json={"ids": [one]})
        released = client.post(f"{QUARANTINE}/release", json={"ids": [one, rows[2]["id"]]})
        for answer in (twice, released):
            assert answer.status_code == 409, answer.text
            assert "discarded already" in answer.json()["error"]["message"]
        assert len(listed(client)) == 2  # the other row was not released either


class TestWhoReviews:
    def test_viewers_read_the_quarantine_but_do_not_decide(self, app: FastAPI, client: TestClient) -> None:
        rows = quarantined(client)
        viewer = make_member(app, Role.viewer)
        with api(app, access_token(app, viewer)) as as_viewer:
            assert len(listed(as_viewer)) == 3
            answer = as_viewer.post(f"{QUARANTINE}/discard", json={"ids": [rows[2]["id"]]})
            assert answer.status_code == 403, answer.text

    def test_outsiders_of_the_project_get_404(self, app: FastAPI, client: TestClient) -> None:
        quarantined(client)
        outsider = make_account(app, role=Role.data_scientist)
        with api(app, access_token(app, outsider)) as as_outsider:
            assert as_outsider.get(QUARANTINE).status_code == 404
            assert append(as_outsider, readings(2, 9)).status_code == 404


def test_decisions_are_recorded_with_a_time(client: TestClient) -> None:
    rows = quarantined(client)
    before = utcnow()
    client.post(f"{QUARANTINE}/discard", json={"ids": [rows[2]["id"]]})
    [decided] = listed(client, status="discarded")
    assert pd.Timestamp(decided["decided_at"]) >= pd.Timestamp(before).floor("s")
