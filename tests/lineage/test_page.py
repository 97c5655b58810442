"""The lineage page: the graph around a node drawn as a server-side SVG, with links to the nodes' pages."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.lineage.schemas import NodeKind
from tests.builders import make_experiment, make_run
from tests.builders.auth import make_account, make_member
from tests.builders.core import database
from tests.builders.lineage import make_edge, node
from tests.ui.html_tree import get_page
from tests.ui.sessions import use_session


@pytest.fixture
def browser(anonymous_client: TestClient, app: FastAPI) -> TestClient:
    """A viewer of the default project, logged in with the UI's cookies."""
    use_session(anonymous_client, app, make_member(app, Role.viewer))
    return anonymous_client


def test_the_page_draws_every_node_and_edge_with_links(app: FastAPI, browser: TestClient) -> None:
    with database(app).unit_of_work() as session:
        experiment = make_experiment(session)
        run = make_run(session, experiment, name="gbm-7", inputs=[{"name": "customers", "version": "3"}])
        model = node(NodeKind.model_version, "fraud-v1")
        make_edge(
            session, node(NodeKind.run, run.id), model, "registered_from", project_id=experiment.project_id
        )
        run_id = run.id

    page = get_page(browser, f"/lineage/run/{run_id}")

    svg = page.find("svg", cls="lineage__svg")
    drawn = {element.attrs["data-id"]: element for element in svg.find_all("g", cls="lineage__node")}
    assert set(drawn) == {run_id, "customers@3", "fraud-v1"}
    assert "lineage__node--root" in drawn[run_id].classes
    assert drawn[run_id].find("a").attrs["href"] == f"/runs/{run_id}"
    assert "gbm-7" in drawn[run_id].text()
    assert "dataset version" in drawn["customers@3"].text()
    assert sorted(edge.attrs["data-relation"] for edge in svg.find_all("g", cls="lineage__edge")) == [
        "registered_from",
        "trained_on",
    ]
    # Upstream to the left of the run, downstream to its right.
    x = {ident: int(element.find("rect").attrs["x"]) for ident, element in drawn.items()}
    assert x["customers@3"] < x[run_id] < x["fraud-v1"]


def test_direction_and_depth_narrow_the_drawing(app: FastAPI, browser: TestClient) -> None:
    with database(app).unit_of_work() as session:
        run = make_run(session, inputs=[{"name": "customers", "version": "3"}])
        run_id = run.id

    page = get_page(browser, f"/lineage/run/{run_id}?direction=downstream&depth=1")

    assert "No lineage recorded yet." in page.text()
    assert page.find("option", value="downstream").attrs.get("selected") is not None


def test_an_unknown_kind_and_a_node_of_another_project_answer_error_pages(
    app: FastAPI, browser: TestClient
) -> None:
    with database(app).unit_of_work() as session:
        run_id = make_run(session).id
    outsider = TestClient(app)
    use_session(outsider, app, make_account(app, role=Role.viewer))

    unknown = get_page(browser, "/lineage/model/abc", status=422)
    hidden = get_page(outsider, f"/lineage/run/{run_id}", status=404)

    assert "unknown node kind 'model'; use one of: source, dataset_version" in unknown.text()
    assert f"run '{run_id}' not found" in hidden.text()
