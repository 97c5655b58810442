"""Experiments over HTTP: create, read, list with cursors, update."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api import error_of
from tests.tracking.api import API, create_experiment, create_run


class TestCreateExperiment:
    def test_returns_the_new_experiment_with_its_creator(self, client: TestClient) -> None:
        response = client.post(
            f"{API}/experiments",
            json={"name": "fraud", "description": "card fraud", "tags": {"team": "risk"}},
        )

        assert response.status_code == 201
        body = response.json()
        assert body["name"] == "fraud"
        assert body["description"] == "card fraud"
        assert body["tags"] == {"team": "risk"}
        assert body["created_by"] == "admin@kiln.test"
        assert body["project_id"]
        assert body["run_count"] == 0
        assert client.get(f"{API}/experiments/{body['id']}").json()["name"] == "fraud"

    def test_duplicate_name_is_a_conflict_that_names_it(self, client: TestClient) -> None:
        create_experiment(client, "churn")

        response = client.post(f"{API}/experiments", json={"name": "churn"})

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "conflict"
        assert "'churn'" in error["message"]
        assert "exists" in error["message"]
        assert error["details"] == {"name": "churn", "project": "default"}

    def test_empty_name_is_refused(self, client: TestClient) -> None:
        response = client.post(f"{API}/experiments", json={"name": ""})

        assert response.status_code == 422
        assert "name" in error_of(response)["message"]

    def test_unknown_field_is_refused(self, client: TestClient) -> None:
        response = client.post(f"{API}/experiments", json={"name": "x", "colour": "blue"})

        assert response.status_code == 422
        assert "colour" in error_of(response)["message"]


class TestGetExperiment:
    def test_unknown_id_is_404_naming_the_id(self, client: TestClient) -> None:
        response = client.get(f"{API}/experiments/no-such-experiment")

        assert response.status_code == 404
        error = error_of(response)
        assert error["code"] == "not_found"
        assert "no-such-experiment" in error["message"]

    def test_counts_its_runs(self, client: TestClient) -> None:
        experiment = create_experiment(client)
        create_run(client, experiment["id"])
        create_run(client, experiment["id"])

        assert client.get(f"{API}/experiments/{experiment['id']}").json()["run_count"] == 2


class TestListExperiments:
    def test_cursor_walks_every_experiment_exactly_once(self, client: TestClient) -> None:
        created = {create_experiment(client)["id"] for _ in range(7)}
        seen: list[str] = []
        cursor: str | None = None
        pages = 0

        while True:
            query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{API}/experiments", params=query).json()
            assert len(page["items"]) <= 3
            seen.extend(item["id"] for item in page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert pages == 3
        assert len(seen) == len(set(seen)) == 7
        assert set(seen) == created

    def test_newest_first(self, client: TestClient) -> None:
        first = create_experiment(client)
        second = create_experiment(client)

        ids = [item["id"] for item in client.get(f"{API}/experiments").json()["items"]]

        assert ids == [second["id"], first["id"]]

    def test_filter_by_exact_name(self, client: TestClient) -> None:
        create_experiment(client, "alpha")
        create_experiment(client, "beta")

        page = client.get(f"{API}/experiments", params={"name": "beta"}).json()

        assert [item["name"] for item in page["items"]] == ["beta"]
        assert page["next_cursor"] is None

    def test_run_counts_in_the_listing(self, client: TestClient) -> None:
        busy = create_experiment(client)
        idle = create_experiment(client)
        for _ in range(3):
            create_run(client, busy["id"])

        counts = {item["id"]: item["run_count"] for item in client.get(f"{API}/experiments").json()["items"]}

        assert counts == {busy["id"]: 3, idle["id"]: 0}

    @pytest.mark.parametrize(
        "cursor", ["not-a-cursor!", "eyJvIjogMTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMH0"]
    )
    def test_bad_cursor_is_400(self, client: TestClient, cursor: str) -> None:
        response = client.get(f"{API}/experiments", params={"cursor": cursor})

        assert response.status_code == 400
        assert "cursor" in error_of(response)["message"]

    def test_limit_out_of_range_is_422(self, client: TestClient) -> None:
        assert client.get(f"{API}/experiments", params={"limit": 0}).status_code == 422
        assert client.get(f"{API}/experiments", params={"limit": 1001}).status_code == 422


class TestUpdateExperiment:
    def test_tags_merge_into_the_existing_ones(self, client: TestClient) -> None:
        experiment = create_experiment(client, tags={"team": "risk", "stage": "dev"})

        response = client.patch(
            f"{API}/experiments/{experiment['id']}", json={"tags": {"stage": "prod", "owner": "bo"}}
        )

        assert response.status_code == 200
        assert response.json()["tags"] == {"team": "risk", "stage": "prod", "owner": "bo"}
        stored = client.get(f"{API}/experiments/{experiment['id']}").json()
        assert stored["tags"] == {"team": "risk", "stage": "prod", "owner": "bo"}

    def test_description_changes_and_tags_stay(self, client: TestClient) -> None:
        experiment = create_experiment(client, tags={"team": "risk"})

        body = client.patch(f"{API}/experiments/{experiment['id']}", json={"description": "new"}).json()

        assert body["description"] == "new"
        assert body["tags"] == {"team": "risk"}

    def test_unknown_experiment_is_404(self, client: TestClient) -> None:
        response = client.patch(f"{API}/experiments/missing-id", json={"description": "x"})

        assert response.status_code == 404
        assert "missing-id" in error_of(response)["message"]
