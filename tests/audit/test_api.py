"""The audit API: read-only, filtered queries, CSV and JSON-lines export, chain verification."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.audit.schemas import AuditRecordRead
from kiln.auth.permissions import Role
from tests.audit.builders import tamper, wipe
from tests.builders.audit import ALICE, BOB, append, audit_records
from tests.builders.auth import api, make_account, open_session


@pytest.fixture
def auditor(app: FastAPI) -> TestClient:
    admin = make_account(app, role=Role.admin)
    return api(app, open_session(app, admin).access_token)


@pytest.fixture
def trail(app: FastAPI) -> list[dict[str, Any]]:
    """Six records by Alice and Bob, read back through the API (oldest first)."""
    append(app, ALICE, "thing.noted", "u-1", note='comma, "quote"\nnewline and ünïcode')
    append(app, BOB, "user.login", "u-2")
    append(app, ALICE, "user.updated", "u-2", role="viewer")
    append(app, BOB, "user.login", "u-2")
    append(app, ALICE, "project.created", "p-1", name="vision")
    append(app, BOB, "user.profile_updated", "u-2", name="Bob")
    return [r for r in reversed(_records(app)) if r["actor_id"] in (ALICE.id, BOB.id)]


def _records(app: FastAPI) -> list[dict[str, Any]]:
    return [AuditRecordRead.model_validate(r).model_dump(mode="json") for r in reversed(audit_records(app))]


def _same_time(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def seqs(rows: list[dict[str, Any]]) -> list[int]:
    return [int(row["seq"]) for row in rows]


class TestReadOnly:
    def test_records_cannot_be_changed_through_the_api(
        self, app: FastAPI, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        before = _records(app)
        answers = {
            (method, path): auditor.request(method, path, json={"details": {}}).status_code
            for method in ("POST", "PUT", "PATCH", "DELETE")
            for path in ("/api/v1/audit", f"/api/v1/audit/{trail[0]['seq']}", "/api/v1/audit/export")
        }
        assert set(answers.values()) <= {404, 405}, answers
        assert _records(app) == before

    def test_only_admins_read_the_trail(self, app: FastAPI) -> None:
        engineer = make_account(app, role=Role.ml_engineer)
        client = api(app, open_session(app, engineer).access_token)
        for path in ("/api/v1/audit", "/api/v1/audit/export", "/api/v1/audit/verify"):
            assert client.get(path).status_code == 403


class TestQuery:
    def test_newest_first_filtered_and_paged(self, auditor: TestClient, trail: list[dict[str, Any]]) -> None:
        alice = auditor.get("/api/v1/audit", params={"actor_id": ALICE.id}).json()["items"]
        assert seqs(alice) == [row["seq"] for row in reversed(trail) if row["actor_id"] == ALICE.id]
        logins = auditor.get("/api/v1/audit", params={"action": "user.login"}).json()["items"]
        assert [r["action"] for r in logins] == ["user.login", "user.login"]
        on_u2 = auditor.get("/api/v1/audit", params={"target_type": "thing", "target_id": "u-2"}).json()[
            "items"
        ]
        assert len(on_u2) == 4

        first_page = auditor.get("/api/v1/audit", params={"actor_id": BOB.id, "limit": 2}).json()["items"]
        second_page = auditor.get(
            "/api/v1/audit", params={"actor_id": BOB.id, "limit": 2, "before_seq": first_page[-1]["seq"]}
        ).json()["items"]
        assert seqs(first_page) + seqs(second_page) == [
            row["seq"] for row in reversed(trail) if row["actor_id"] == BOB.id
        ]

    def test_the_cursor_pages_to_the_end_and_new_records_do_not_shift_it(
        self, app: FastAPI, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        params = {"target_type": "thing", "limit": 4}
        first = auditor.get("/api/v1/audit", params=params).json()
        append(app, ALICE, "thing.noted", "u-9")  # arrives at the head while the caller pages
        second = auditor.get("/api/v1/audit", params=params | {"cursor": first["next_cursor"]}).json()

        assert seqs(first["items"]) + seqs(second["items"]) == [row["seq"] for row in reversed(trail)]
        assert second["next_cursor"] is None

    @pytest.mark.parametrize("limit", [0, 1001, -1])
    def test_limits_are_bounded(self, auditor: TestClient, limit: int) -> None:
        assert auditor.get("/api/v1/audit", params={"limit": limit}).status_code == 422


class TestExport:
    def test_jsonl_by_actor_and_time_range(self, auditor: TestClient, trail: list[dict[str, Any]]) -> None:
        since, until = trail[1]["at"], trail[4]["at"]  # from the 2nd record up to (not incl.) the 5th
        response = auditor.get(
            "/api/v1/audit/export",
            params={"format": "jsonl", "actor_id": BOB.id, "since": since, "until": until},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert 'filename="kiln-audit.jsonl"' in response.headers["content-disposition"]
        rows = [json.loads(line) for line in response.text.splitlines()]
        assert seqs(rows) == [trail[1]["seq"], trail[3]["seq"]]
        assert _same_time(rows[0].pop("at"), trail[1]["at"])
        assert rows[0] == {key: value for key, value in trail[1].items() if key != "at"}

    def test_csv_by_action_round_trips_awkward_details(
        self, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        response = auditor.get("/api/v1/audit/export", params={"format": "csv", "action": "thing.noted"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert seqs(rows) == [trail[0]["seq"]]
        assert json.loads(rows[0]["details"]) == {"note": 'comma, "quote"\nnewline and ünïcode'}
        assert rows[0]["hash"] == trail[0]["hash"]

    def test_a_time_range_alone_selects_by_time(
        self, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        response = auditor.get("/api/v1/audit/export", params={"since": trail[4]["at"]})
        assert seqs([json.loads(line) for line in response.text.splitlines()]) == seqs(trail[4:])

    def test_an_unknown_format_is_refused(self, auditor: TestClient) -> None:
        assert auditor.get("/api/v1/audit/export", params={"format": "xml"}).status_code == 422


class TestVerify:
    def test_the_api_reports_the_first_broken_record(
        self, app: FastAPI, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        intact = auditor.get("/api/v1/audit/verify").json()
        assert intact["ok"] is True
        assert intact["broken_seq"] is None
        tamper(app, trail[2]["seq"], actor_name="someone else")
        broken = auditor.get("/api/v1/audit/verify").json()
        assert broken["ok"] is False
        assert broken["broken_seq"] == trail[2]["seq"]
        assert broken["checked"] == trail[2]["seq"] - 1

    def test_the_api_returns_the_head_and_checks_an_expected_one(
        self, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        intact = auditor.get("/api/v1/audit/verify").json()
        last = trail[-1]
        assert (intact["head_seq"], intact["head_hash"]) == (last["seq"], last["hash"])
        same = auditor.get(
            "/api/v1/audit/verify", params={"expect_head": f"{last['seq']}:{last['hash']}"}
        ).json()
        assert same["ok"] is True
        other = auditor.get(
            "/api/v1/audit/verify", params={"expect_head": f"{last['seq']}:{'0' * 64}"}
        ).json()
        assert other["ok"] is False
        assert other["reason"] == f"record {last['seq']} no longer has the expected head hash"
        malformed = auditor.get("/api/v1/audit/verify", params={"expect_head": "latest"})
        assert malformed.status_code == 400
        assert "SEQ:HASH" in malformed.json()["error"]["message"]

    def test_an_emptied_trail_is_a_failure(
        self, app: FastAPI, auditor: TestClient, trail: list[dict[str, Any]]
    ) -> None:
        wipe(app)
        emptied = auditor.get("/api/v1/audit/verify").json()
        assert emptied["ok"] is False
        assert "the trail is empty but" in emptied["reason"]
