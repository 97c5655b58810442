"""The pipeline DAG drawn on the pipeline and run pages, and the run page's live refresh
(``live.json``): the same states as the page, the parts the page swaps in, and the end of polling."""

from __future__ import annotations

from typing import Any

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.builders.auth import admin_client, make_account, open_session
from tests.builders.pipelines import register, run_jobs, start_run
from tests.ui.html_tree import Element, get_page, parse_html
from tests.ui.test_pipeline_pages import rows

pytestmark = pytest.mark.usefixtures("logged_in")

FUNCTION = "examples.pipelines:wait_a_moment"


def diamond() -> dict[str, Any]:
    """load -> (clean, features) -> train, and report needing load directly: a long edge too."""

    def step(name: str, *needs: str) -> dict[str, Any]:
        inputs = {"seconds": {"value": 0}, "tag": {"value": name}}
        return {"name": name, "function": FUNCTION, "needs": list(needs), "inputs": inputs}

    steps = [
        step("load"),
        step("clean", "load"),
        step("features", "load"),
        step("train", "clean", "features"),
        step("report", "load", "train"),
    ]
    return {"name": "diamond", "steps": steps}


EDGES = {
    "load->clean",
    "load->features",
    "clean->train",
    "features->train",
    "load->report",
    "train->report",
}


def graph(page: Element) -> tuple[dict[str, str], set[str]]:
    """The drawn steps (name -> state, or "" when the page shows no states) and edges."""
    svg = page.find("svg", cls="dag")
    assert svg.attrs["role"] == "img"
    assert "steps" in str(svg.attrs["aria-label"])
    nodes = {
        str(node.attrs["data-node"]): str(node.attrs.get("data-state", ""))
        for node in svg.find_all("g", cls="dag__node")
    }
    for node in svg.find_all("g", cls="dag__node"):
        assert node.find("title").text().startswith(str(node.attrs["data-node"]))
    edges = {str(path.attrs["data-edge"]) for path in svg.find_all("path", cls="dag__edge")}
    return nodes, edges


class TestPipelineGraph:
    def test_the_pipeline_page_draws_every_step_and_edge(self, app: FastAPI, client: TestClient) -> None:
        assert register(admin_client(app), diamond()).status_code == 201
        nodes, edges = graph(get_page(client, "/pipelines/diamond"))
        assert nodes == dict.fromkeys(["load", "clean", "features", "train", "report"], "")
        assert edges == EDGES

    def test_the_graph_of_the_version_shown(self, app: FastAPI, client: TestClient) -> None:
        api = admin_client(app)
        register(api, diamond())
        smaller = diamond()
        smaller["steps"] = smaller["steps"][:2]
        assert register(api, smaller).status_code == 201
        assert graph(get_page(client, "/pipelines/diamond"))[1] == {"load->clean"}
        assert graph(get_page(client, "/pipelines/diamond?version=1"))[1] == EDGES

    def test_a_run_colours_each_step_by_its_state(self, app: FastAPI, client: TestClient) -> None:
        api = admin_client(app)
        register(api, examples.failing)
        run = start_run(api, "failing", message="disk on fire")
        queued = get_page(client, f"/pipelines/failing/runs/{run['id']}")
        assert graph(queued)[0] == dict.fromkeys(["fail", "after_failure", "wait_a_moment"], "pending")
        assert (
            queued.find("p", id="live-status").attrs["data-live-url"].endswith(f"/runs/{run['id']}/live.json")
        )

        run_jobs(app)
        page = get_page(client, f"/pipelines/failing/runs/{run['id']}")
        nodes, edges = graph(page)
        assert nodes == {"fail": "failed", "after_failure": "skipped", "wait_a_moment": "succeeded"}
        assert edges == {"fail->after_failure"}
        # An ended run does not poll.
        assert page.find_all("p", id="live-status") == []


class TestLiveRefresh:
    def live(self, client: TestClient, run_id: str) -> dict[str, Any]:
        response = client.get(f"/pipelines/failing/runs/{run_id}/live.json")
        assert response.status_code == 200, response.text[:500]
        assert response.headers["cache-control"] == "no-store"
        body: dict[str, Any] = response.json()
        return body

    def test_the_json_carries_the_parts_the_page_shows_then_says_it_is_final(
        self, app: FastAPI, client: TestClient
    ) -> None:
        api = admin_client(app)
        register(api, examples.failing)
        run = start_run(api, "failing", message="disk on fire")
        page = get_page(client, f"/pipelines/failing/runs/{run['id']}")
        keys, texts = set(rows(page, "data-live-fragment")), set(rows(page, "data-live-key"))

        queued = self.live(client, run["id"])
        assert set(queued["fragments"]) == keys
        assert set(queued["values"]) == texts
        assert "final" not in queued
        assert graph(parse_html(queued["fragments"]["run-dag"]))[0]["fail"] == "pending"

        run_jobs(app)
        ended = self.live(client, run["id"])
        assert ended["final"] == "The run has failed; the page no longer updates."
        assert graph(parse_html(ended["fragments"]["run-dag"]))[0] == {
            "fail": "failed",
            "after_failure": "skipped",
            "wait_a_moment": "succeeded",
        }
        assert "disk on fire" in parse_html(ended["fragments"]["run-error"]).text()
        assert "disk on fire" in ended["values"]["log:fail"]
        bars = parse_html(ended["fragments"]["run-timeline"]).find_all("g")
        assert {str(bar.attrs["data-bar"]) for bar in bars} == {"fail", "wait_a_moment"}
        assert 'data-state="failed"' in ended["fragments"]["run-state"]

    def test_a_non_member_gets_404_for_the_page_and_its_json(self, app: FastAPI, client: TestClient) -> None:
        api = admin_client(app)
        register(api, examples.failing)
        run = start_run(api, "failing")
        outsider = make_account(app, role=Role.data_scientist)
        client.cookies.set("kiln_access", open_session(app, outsider).access_token)
        for path in ("", "/live.json"):
            assert client.get(f"/pipelines/failing/runs/{run['id']}{path}").status_code == 404, path
        assert client.get("/pipelines/failing/runs/nope/live.json").status_code == 404
