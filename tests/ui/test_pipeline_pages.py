"""The pipeline pages: the list, one pipeline with its steps and versions, one run with its steps."""

from __future__ import annotations

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders.auth import admin_client
from tests.builders.pipelines import register, run_jobs, start_run
from tests.ui.html_tree import Element, get_page

pytestmark = pytest.mark.usefixtures("logged_in")


def rows(page: Element, attribute: str) -> list[str]:
    return [str(element.attrs[attribute]) for element in page.iter() if attribute in element.attrs]


class TestPipelinePages:
    def test_list_detail_and_run(self, app: FastAPI, client: TestClient) -> None:
        api = admin_client(app)
        register(api, examples.failing)
        run = start_run(api, "failing", message="disk on fire")
        run_jobs(app)

        assert rows(get_page(client, "/pipelines"), "data-pipeline") == ["failing"]
        detail = get_page(client, "/pipelines/failing")
        assert rows(detail, "data-step") == ["fail", "after_failure", "wait_a_moment"]
        assert rows(detail, "data-run") == [run["id"]]
        assert rows(detail, "data-version") == ["1"]

        page = get_page(client, f"/pipelines/failing/runs/{run['id']}")
        assert "step fail failed: RuntimeError: disk on fire" in page.find("div", id="run-error").text()
        states = {
            row.attrs["data-step"]: next(
                cell.attrs["data-state"] for cell in row.iter() if "data-state" in cell.attrs
            )
            for row in page.iter()
            if "data-step" in row.attrs
        }
        assert states == {"fail": "failed", "after_failure": "skipped", "wait_a_moment": "succeeded"}
        # The timeline draws the steps that ran, not the skipped one.
        assert set(rows(page, "data-bar")) == {"fail", "wait_a_moment"}

    def test_a_pipeline_that_does_not_exist_is_404(self, client: TestClient) -> None:
        assert client.get("/pipelines/nowhere").status_code == 404


class TestTrackedRunPages:
    def test_the_run_links_its_lineage_and_its_tracking_run_lists_the_training_steps(
        self, app: FastAPI, client: TestClient
    ) -> None:
        api = admin_client(app)
        register(api, examples.classifier)
        run = start_run(api, "classifier", rows=200, c=1.0)
        run_jobs(app)

        page = get_page(client, f"/pipelines/classifier/runs/{run['id']}")
        links = {str(element.attrs.get("href")) for element in page.iter() if element.tag == "a"}
        assert f"/lineage/pipeline_run/{run['id']}" in links
        assert f"/lineage/step_output/{run['id']}:fit_classifier" in links
        tracking_run = api.get(f"/api/v1/pipelines/classifier/runs/{run['id']}").json()["tracking_run_id"]
        tracked = get_page(client, f"/runs/{tracking_run}")
        children = tracked.find("section", id="child-runs")
        assert "fit_classifier" in children.text()
        assert "score_classifier" in children.text()
        lineage = client.get(f"/lineage/step_output/{run['id']}:score_classifier")
        assert lineage.status_code == 200
        assert "fit_classifier of classifier run" in lineage.text
