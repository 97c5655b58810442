"""The prediction log over HTTP: lists, one prediction, CSV export; ground-truth feedback."""

from __future__ import annotations

import csv
import io
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.builders.auth import access_token, api, default_project_id, make_account, make_member
from tests.builders.core import database
from tests.builders.serving import at, log_in_default_project, log_predictions, prediction

PREDICTIONS = f"{API}/predictions"


def request_ids(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return [item["request_id"] for item in body["items"]]


class TestList:
    def test_newest_first_with_pages_that_hold_still(self, app: FastAPI, client: TestClient) -> None:
        ids = log_in_default_project(app, 5)
        first = client.get(PREDICTIONS, params={"limit": 2})
        assert first.status_code == 200, first.text
        assert request_ids(first) == [ids[4], ids[3]]
        log_in_default_project(app, 1)  # arrives meanwhile: later pages do not shift
        second = client.get(PREDICTIONS, params={"limit": 2, "cursor": first.json()["next_cursor"]})
        assert request_ids(second) == [ids[2], ids[1]]
        third = client.get(PREDICTIONS, params={"limit": 2, "cursor": second.json()["next_cursor"]})
        assert request_ids(third) == [ids[0]]
        assert third.json()["next_cursor"] is None

    def test_filters_by_deployment_version_and_status(self, app: FastAPI, client: TestClient) -> None:
        fraud = log_in_default_project(app, 2)
        churn = log_in_default_project(
            app, 1, deployment="churn", model_name="churn", model_version_number=1, model_version_id=None
        )
        failed = log_in_default_project(app, 1, status="error", error="ValueError: boom")
        invalid = log_in_default_project(app, 1, status="invalid", error="amount: expected a number")

        assert set(request_ids(client.get(PREDICTIONS, params={"deployment": "churn"}))) == set(churn)
        assert set(request_ids(client.get(PREDICTIONS, params={"version": "1"}))) == set(churn)
        by_id = client.get(PREDICTIONS, params={"version": "0190a000-0000-7000-8000-000000000003"})
        assert set(request_ids(by_id)) == set(fraud + failed + invalid)
        assert request_ids(client.get(PREDICTIONS, params={"status": "error"})) == failed
        both = client.get(PREDICTIONS, params={"deployment": "fraud", "status": "ok"})
        assert set(request_ids(both)) == set(fraud)
        item = client.get(PREDICTIONS, params={"status": "invalid"}).json()["items"][0]
        assert item["error"] == "amount: expected a number"
        assert item["model_name"] == "fraud_detector"

    def test_filters_by_time_range(self, app: FastAPI, client: TestClient) -> None:
        early = log_in_default_project(app, 1, created_at=at("2025-01-01T10:00:00+00:00"))
        middle = log_in_default_project(app, 1, created_at=at("2025-01-02T10:00:00+00:00"))
        late = log_in_default_project(app, 1, created_at=at("2025-01-03T10:00:00+00:00"))
        window = {"from": "2025-01-02T00:00:00Z", "to": "2025-01-03T10:00:00Z"}
        assert request_ids(client.get(PREDICTIONS, params=window)) == middle
        # No zone means UTC; 'to' is exclusive, 'from' inclusive.
        since = client.get(PREDICTIONS, params={"from": "2025-01-02T10:00:00"})
        assert request_ids(since) == late + middle
        until = client.get(PREDICTIONS, params={"to": "2025-01-02T10:00:00"})
        assert request_ids(until) == early

    def test_bad_filters_are_refused_with_what_to_fix(self, client: TestClient) -> None:
        backwards = client.get(PREDICTIONS, params={"from": "2025-01-03", "to": "2025-01-02"})
        assert backwards.status_code == 422
        assert "must be before" in error_of(backwards)["message"]
        not_a_date = client.get(PREDICTIONS, params={"from": "yesterday"})
        assert not_a_date.status_code == 422
        assert "'yesterday' is not a date and time" in error_of(not_a_date)["message"]
        status = client.get(PREDICTIONS, params={"status": "fine"})
        assert status.status_code == 422
        assert "status" in error_of(status)["message"]
        cursor = client.get(PREDICTIONS, params={"cursor": "garbage"})
        assert cursor.status_code == 400
        assert "cursor" in error_of(cursor)["message"]


class TestExport:
    def test_csv_of_the_filtered_log_with_feedback(self, app: FastAPI, client: TestClient) -> None:
        fraud = log_in_default_project(app, 2)
        log_in_default_project(app, 1, deployment="churn")
        failed = log_in_default_project(app, 1, status="error", error='=HYPERLINK("x")')
        client.post(f"{PREDICTIONS}/{fraud[0]}/feedback", json={"actual": 1, "values": {"amount": 120.5}})

        response = client.get(f"{PREDICTIONS}/export.csv", params={"deployment": "fraud"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "kiln-predictions.csv" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["request_id"] for row in rows] == [*fraud, *failed]  # oldest first
        first = rows[0]
        assert json.loads(first["inputs"]) == [{"amount": 120.5, "country": "FR"}]
        assert json.loads(first["actual"]) == 1
        assert json.loads(first["values"]) == {"amount": 120.5}
        assert first["feedback_at"]
        assert rows[1]["actual"] == ""
        # A spreadsheet must not run a model's error message as a formula.
        assert rows[2]["error"] == '\'=HYPERLINK("x")'

    def test_an_export_larger_than_one_read_page(self, app: FastAPI, client: TestClient) -> None:
        ids = log_in_default_project(app, 2100)
        response = client.get(f"{PREDICTIONS}/export.csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["request_id"] for row in rows] == ids


class TestFeedback:
    def test_feedback_joins_to_its_prediction(self, app: FastAPI, client: TestClient) -> None:
        (request_id,) = log_in_default_project(app)
        assert client.get(f"{PREDICTIONS}/{request_id}").json()["feedback"] is None

        sent = client.post(f"{PREDICTIONS}/{request_id}/feedback", json={"actual": "fraud"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["replaced"] is False
        assert sent.json()["received_by"] == "admin@kiln.test"

        shown = client.get(f"{PREDICTIONS}/{request_id}").json()
        assert shown["feedback"]["actual"] == "fraud"
        assert shown["feedback"]["values"] is None
        assert shown["outputs"] == [{"prediction": 0, "probability": 0.12}]
        listed = client.get(PREDICTIONS).json()["items"][0]
        assert listed["feedback"]["actual"] == "fraud"

    def test_a_later_feedback_replaces_the_earlier_and_says_so(
        self, app: FastAPI, client: TestClient
    ) -> None:
        (request_id,) = log_in_default_project(app)
        client.post(f"{PREDICTIONS}/{request_id}/feedback", json={"actual": 0})
        again = client.post(
            f"{PREDICTIONS}/{request_id}/feedback", json={"actual": 1, "values": {"chargeback": True}}
        )
        assert again.json()["replaced"] is True
        feedback = client.get(f"{PREDICTIONS}/{request_id}").json()["feedback"]
        assert (feedback["actual"], feedback["values"]) == (1, {"chargeback": True})

    def test_feedback_for_an_unknown_request_id_is_not_found(self, client: TestClient) -> None:
        for request_id in ("0190a000-0000-7000-8000-0000000000ff", "x" * 300):
            response = client.post(f"{PREDICTIONS}/{request_id}/feedback", json={"actual": 1})
            assert response.status_code == 404
            assert "not found" in error_of(response)["message"]
        assert client.get(f"{PREDICTIONS}/0190a000-0000-7000-8000-0000000000ff").status_code == 404

    def test_an_outcome_is_required(self, app: FastAPI, client: TestClient) -> None:
        (request_id,) = log_in_default_project(app)
        for body in ({}, {"actual": None}, {"actual": 1, "extra": 2}):
            response = client.post(f"{PREDICTIONS}/{request_id}/feedback", json=body)
            assert response.status_code == 422, body
            assert "actual" in error_of(response)["message"] or "extra" in error_of(response)["message"]


class TestFeedbackBatch:
    def test_known_ids_are_stored_and_unknown_ones_reported(self, app: FastAPI, client: TestClient) -> None:
        first, second = log_in_default_project(app, 2)
        missing = "0190a000-0000-7000-8000-0000000000ff"
        client.post(f"{PREDICTIONS}/{second}/feedback", json={"actual": 0})
        response = client.post(
            f"{PREDICTIONS}/feedback",
            json=[
                {"request_id": first, "actual": 1},
                {"request_id": missing, "actual": 1},
                {"request_id": second, "actual": 1, "values": {"amount": 3.5}},
            ],
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["recorded"], body["replaced"], body["unknown"]) == (2, 1, [missing])
        assert [item["status"] for item in body["items"]] == ["recorded", "unknown", "replaced"]
        assert client.get(f"{PREDICTIONS}/{first}").json()["feedback"]["actual"] == 1
        assert client.get(f"{PREDICTIONS}/{second}").json()["feedback"]["values"] == {"amount": 3.5}

    def test_the_last_of_two_outcomes_for_one_id_in_a_batch_wins(
        self, app: FastAPI, client: TestClient
    ) -> None:
        (request_id,) = log_in_default_project(app)
        response = client.post(
            f"{PREDICTIONS}/feedback",
            json=[{"request_id": request_id, "actual": "a"}, {"request_id": request_id, "actual": "b"}],
        )
        assert [item["status"] for item in response.json()["items"]] == ["recorded", "replaced"]
        assert client.get(f"{PREDICTIONS}/{request_id}").json()["feedback"]["actual"] == "b"

    def test_a_thousand_at_once_and_no_more(self, app: FastAPI, client: TestClient) -> None:
        ids = log_in_default_project(app, 1000)
        response = client.post(f"{PREDICTIONS}/feedback", json=[{"request_id": i, "actual": 1} for i in ids])
        assert response.json()["recorded"] == 1000
        too_many = client.post(
            f"{PREDICTIONS}/feedback", json=[{"request_id": i, "actual": 1} for i in [*ids, ids[0]]]
        )
        assert too_many.status_code == 422
        assert "1000" in error_of(too_many)["message"]
        empty = client.post(f"{PREDICTIONS}/feedback", json=[])
        assert empty.status_code == 422


class TestProjectScoping:
    def test_a_non_member_sees_nothing_and_cannot_give_feedback(
        self, app: FastAPI, client: TestClient
    ) -> None:
        (request_id,) = log_in_default_project(app)
        outsider = make_account(app, role=Role.ml_engineer)  # a member of no project
        with api(app, access_token(app, outsider)) as theirs:
            assert theirs.get(PREDICTIONS).json()["items"] == []
            assert theirs.get(f"{PREDICTIONS}/{request_id}").status_code == 404
            export = theirs.get(f"{PREDICTIONS}/export.csv")
            assert export.status_code == 200
            assert len(list(csv.DictReader(io.StringIO(export.text)))) == 0
            single = theirs.post(f"{PREDICTIONS}/{request_id}/feedback", json={"actual": 1})
            assert single.status_code == 404
            batch = theirs.post(f"{PREDICTIONS}/feedback", json=[{"request_id": request_id, "actual": 1}])
            assert batch.status_code == 200
            assert batch.json()["unknown"] == [request_id]
        assert client.get(f"{PREDICTIONS}/{request_id}").json()["feedback"] is None

    def test_a_member_of_another_project_sees_only_theirs(self, app: FastAPI) -> None:
        from tests.builders.auth import make_project

        member = make_account(app, role=Role.viewer)
        with database(app).unit_of_work() as session:
            project_id = make_project(session, members={member.id: "viewer"}).id
        (theirs,) = log_predictions(database(app), [prediction(project_id)])
        log_predictions(database(app), [prediction(default_project_id(app))])
        with api(app, access_token(app, member)) as client:
            assert request_ids(client.get(PREDICTIONS)) == [theirs]
            sent = client.post(f"{PREDICTIONS}/{theirs}/feedback", json={"actual": 1})
            assert sent.status_code == 200

    def test_a_viewer_of_the_project_reads_and_gives_feedback(self, app: FastAPI) -> None:
        (request_id,) = log_in_default_project(app)
        viewer = make_member(app, Role.viewer)
        with api(app, access_token(app, viewer)) as client:
            assert client.get(f"{PREDICTIONS}/{request_id}").status_code == 200
            assert client.post(f"{PREDICTIONS}/{request_id}/feedback", json={"actual": 1}).status_code == 200

    def test_unauthenticated_calls_are_refused(self, anonymous_client: TestClient) -> None:
        assert anonymous_client.get(PREDICTIONS).status_code == 401
        assert anonymous_client.post(f"{PREDICTIONS}/feedback", json=[]).status_code == 401
