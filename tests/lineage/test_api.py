"""``GET /api/v1/lineage/{kind}/{id}``: runs' inputs become edges; who may see which node and edge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_account, make_project, make_user_token
from tests.builders.core import database
from tests.tracking.api import create_experiment, create_run

CUSTOMERS = {"name": "customers", "version": "3", "digest": "sha256:ab12", "uri": "s3://data/customers/3"}


def lineage(client: TestClient, kind: str, ident: str, **params: Any) -> Any:
    response = client.get(f"{API}/lineage/{kind}/{ident}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def node_ids(graph: dict[str, Any]) -> set[str]:
    return {item["id"] for item in graph["nodes"]}


def project_member(app: FastAPI, role: Role = Role.viewer) -> tuple[str, str]:
    """A new project with one member (no other membership); returns (project name, their token)."""
    account = make_account(app, role=role)
    with database(app).unit_of_work() as session:
        project = make_project(session, members={account.id: role.value})
        name = project.name
    return name, access_token(app, account)


class TestRunInputs:
    def test_a_viewer_sees_the_dataset_a_run_was_trained_on(self, app: FastAPI, client: TestClient) -> None:
        run = create_run(client, name="gbm-7", inputs=[CUSTOMERS])
        viewer = api(app, make_user_token(app, role=Role.viewer))

        graph = lineage(viewer, "run", run["id"], direction="upstream")

        assert graph["truncated"] is False
        assert graph["root"] == {"kind": "run", "id": run["id"]}
        nodes = {item["id"]: item for item in graph["nodes"]}
        assert nodes[run["id"]] == {
            "kind": "run",
            "id": run["id"],
            "label": "gbm-7",
            "url": f"/runs/{run['id']}",
            "level": 0,
        }
        assert nodes["customers@3"]["kind"] == "dataset_version"
        assert nodes["customers@3"]["level"] == -1
        [edge] = graph["edges"]
        assert (edge["source"]["id"], edge["target"]["id"], edge["relation"]) == (
            "customers@3",
            run["id"],
            "trained_on",
        )
        assert edge["attributes"] == {"digest": "sha256:ab12", "uri": "s3://data/customers/3"}

    def test_the_dataset_leads_downstream_to_every_run_that_read_it(self, client: TestClient) -> None:
        experiment = create_experiment(client)
        first = create_run(client, experiment["id"], inputs=[CUSTOMERS])
        second = create_run(client, experiment["id"], inputs=[CUSTOMERS])

        graph = lineage(client, "dataset_version", "customers@3", direction="downstream")

        assert node_ids(graph) == {"customers@3", first["id"], second["id"]}

    def test_an_input_logged_after_the_run_started_is_an_edge_too(self, client: TestClient) -> None:
        run = create_run(client)
        description = {"kind": "dataset", "name": "orders", "version": "2024-05", "digest": "", "uri": ""}
        response = client.post(
            f"{API}/runs/{run['id']}/tags",
            json={"key": "kiln.input.orders", "value": json.dumps(description)},
        )
        assert response.status_code == 200, response.text
        # Setting the same tag again (an SDK retry) records nothing new.
        client.post(
            f"{API}/runs/{run['id']}/tags",
            json={"key": "kiln.input.orders", "value": json.dumps(description)},
        )

        graph = lineage(client, "run", run["id"])

        assert node_ids(graph) == {run["id"], "orders@2024-05"}
        assert len(graph["edges"]) == 1

    def test_a_run_without_inputs_is_its_own_graph(self, client: TestClient) -> None:
        run = create_run(client)

        graph = lineage(client, "run", run["id"])

        assert node_ids(graph) == {run["id"]}
        assert graph["edges"] == []


class TestProjects:
    def test_a_non_member_gets_404_naming_the_node(self, app: FastAPI, client: TestClient) -> None:
        run = create_run(client, inputs=[CUSTOMERS])  # in the default project
        _, outsider = project_member(app)

        for kind, ident in (("run", run["id"]), ("dataset_version", "customers@3")):
            response = api(app, outsider).get(f"{API}/lineage/{kind}/{ident}")
            assert response.status_code == 404, response.text
            assert error_of(response)["message"] == f"{kind.replace('_', ' ')} {ident!r} not found"

    def test_members_see_only_their_projects_edges_of_a_shared_node(
        self, app: FastAPI, client: TestClient
    ) -> None:
        theirs_project, theirs_token = project_member(app)
        ours = create_run(client, inputs=[CUSTOMERS])
        theirs = create_run(
            client, create_experiment(client, project=theirs_project)["id"], inputs=[CUSTOMERS]
        )
        ours_viewer = api(app, make_user_token(app, role=Role.viewer))

        as_them = lineage(api(app, theirs_token), "dataset_version", "customers@3")
        as_us = lineage(ours_viewer, "dataset_version", "customers@3")
        as_admin = lineage(client, "dataset_version", "customers@3")

        assert node_ids(as_them) == {"customers@3", theirs["id"]}
        assert node_ids(as_us) == {"customers@3", ours["id"]}
        assert node_ids(as_admin) == {"customers@3", ours["id"], theirs["id"]}


class TestBadRequests:
    def test_an_unknown_kind_is_422_listing_the_kinds(self, client: TestClient) -> None:
        response = client.get(f"{API}/lineage/model/abc")

        assert response.status_code == 422
        error = error_of(response)
        assert error["message"].startswith(
            "unknown node kind 'model'; use one of: source, dataset_version, run"
        )
        assert "model_version" in error["details"]["kinds"]

    @pytest.mark.parametrize("params", [{"depth": 11}, {"depth": -1}, {"direction": "sideways"}])
    def test_a_depth_or_direction_out_of_range_is_422(
        self, client: TestClient, params: dict[str, Any]
    ) -> None:
        run = create_run(client)

        response = client.get(f"{API}/lineage/run/{run['id']}", params=params)

        assert response.status_code == 422, response.text
        assert next(iter(params)) in error_of(response)["message"]

    def test_a_missing_run_is_404(self, client: TestClient) -> None:
        response = client.get(f"{API}/lineage/run/no-such-run")

        assert response.status_code == 404
        assert error_of(response)["message"] == "run 'no-such-run' not found"

    def test_anonymous_callers_are_refused(self, anonymous_client: TestClient) -> None:
        response = anonymous_client.get(f"{API}/lineage/run/anything")

        assert response.status_code == 401
