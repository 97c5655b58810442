"""The deployment pages: the list, one deployment (version, health, traffic, predictions with their
feedback), its try-it form through the API's predict path, and undeploying."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from tests.api import API
from tests.builders.auth import Account, access_token, api, make_account, make_member
from tests.builders.deployments import deploy, refresh
from tests.builders.registry_lifecycle import build_model
from tests.ui.html_tree import Element, chart_data, get_page, parse_html
from tests.ui.sessions import submit, use_session

pytestmark = pytest.mark.usefixtures("logged_in")

PAGE = "/deployments/fraud-api"


@dataclass(frozen=True, slots=True)
class Deployed:
    model: str
    request_id: str  # a prediction made through the API, with feedback


def nav_labels(page: Element) -> set[str]:
    return {link.text() for link in page.find("nav", aria_label="Main").find_all("a")}


@pytest.fixture
def fraud_api(app: FastAPI, logged_in: Account) -> Deployed:
    """``fraud-api`` serving version 1, whose signature bounds ``amount`` to [0, 1000]; one API
    prediction with feedback (``actual`` 1) is in the log."""
    [version] = build_model(app)
    with api(app, access_token(app, logged_in)) as rest:
        signature = rest.get(f"{API}/models/{version.model}/versions/1").json()["signature"]
        signature["inputs"][0] |= {"minimum": 0, "maximum": 1000, "description": "order total in EUR"}
        patched = rest.patch(f"{API}/models/{version.model}/versions/1", json={"signature": signature})
        assert patched.status_code == 200, patched.text
        deploy(rest, "fraud-api", version.model, version=1)
        refresh(app)
        answer = rest.post(
            f"{API}/deployments/fraud-api/predict", json={"inputs": [{"amount": 80, "age": 30}]}
        )
        assert answer.status_code == 200, answer.text
        request_id = answer.json()["request_id"]
        kiln_state(app).prediction_logger.flush()
        feedback = rest.post(f"{API}/predictions/{request_id}/feedback", json={"actual": 1})
        assert feedback.status_code in (200, 201), feedback.text
    return Deployed(version.model, request_id)


class TestList:
    def test_lists_the_deployment_with_its_version_health_and_traffic(
        self, client: TestClient, fraud_api: Deployed, logged_in: Account
    ) -> None:
        page = get_page(client, "/deployments")

        row = page.find("tr", data_deployment="fraud-api")
        cells = [cell.text() for cell in row.find_all("td")]
        assert cells[0] == "fraud-api"
        assert cells[1] == f"{fraud_api.model} v1"
        assert cells[2].startswith("pinned")
        assert cells[3] == "API key"
        assert cells[4] == "active"
        assert row.find(data_health="ready")
        assert logged_in.email in cells[6]
        assert cells[7] == "1"
        assert "Deployments" in nav_labels(page)

    def test_a_non_member_sees_no_deployment_and_gets_404_for_its_page(
        self, client: TestClient, app: FastAPI, fraud_api: Deployed
    ) -> None:
        outsider = make_account(app, role=Role.ml_engineer)  # of no project
        use_session(client, app, outsider)

        page = get_page(client, "/deployments")
        assert not page.find_all("tr", data_deployment="fraud-api")
        assert "No deployments" in page.text()
        missing = get_page(client, PAGE, status=404)
        assert "deployment 'fraud-api' not found" in missing.text()
        token = parse_html(client.get("/deployments").text).find("input", name="csrf_token").attrs["value"]
        tried = client.post(f"{PAGE}/try", data={"csrf_token": token, "input.amount": "5", "input.age": "40"})
        assert tried.status_code == 404


class TestDetail:
    def test_shows_the_version_health_traffic_and_predictions_with_feedback(
        self, client: TestClient, fraud_api: Deployed
    ) -> None:
        page = get_page(client, PAGE)

        link = page.find("a", id="deployment-version")
        assert link.text() == f"{fraud_api.model} v1"
        assert link.attrs["href"].startswith(f"/models/{fraud_api.model}/versions/1?project=")
        assert page.find(id="deployment-health").find(data_health="ready")
        assert page.find("dd", data_total="requests").text() == "1"
        assert page.find("dd", data_total="p50").text().endswith("ms")
        keys = [chart["key"] for chart in chart_data(page)]
        assert keys == ["Requests per minute", "Latency (ms)", "Errors"]
        row = page.find("tr", data_request_id=fraud_api.request_id)
        assert '"amount": 80' in row.find(data_cell="inputs").text()
        assert '"predictions": [1]' in row.find(data_cell="outputs").text()
        assert row.find(data_cell="actual").text().startswith("1")

    def test_the_try_form_is_built_from_the_signature(self, client: TestClient, fraud_api: Deployed) -> None:
        form = get_page(client, PAGE).find("form", id="try-form")

        amount = form.find("input", name="input.amount")
        assert amount.attrs["type"] == "number"
        assert (amount.attrs["min"], amount.attrs["max"]) == ("0.0", "1000.0")
        assert "required" in amount.attrs
        amount_field = form.find(data_field="amount")
        assert "(required)" in amount_field.find("label").text()
        assert "order total in EUR" in amount_field.find(cls="field__hint").text()
        assert form.find("input", name="input.age").attrs["placeholder"] == "e.g. 30.0"

    def test_a_bad_value_shows_the_validators_message_next_to_its_field(
        self, client: TestClient, app: FastAPI, fraud_api: Deployed, logged_in: Account
    ) -> None:
        response = submit(client, PAGE, f"{PAGE}/try", {"input.amount": "5000", "input.age": "forty"})

        assert response.status_code == 422
        with api(app, access_token(app, logged_in)) as rest:
            same = rest.post(
                f"{API}/deployments/fraud-api/predict", json={"inputs": [{"amount": 5000, "age": "forty"}]}
            )
        said = same.json()["error"]["message"]
        page = parse_html(response.text)
        amount = page.find(data_field="amount")
        assert (
            "amount: expected a number between 0 and 1000, got 5000" in amount.find(cls="field__error").text()
        )
        assert amount.find("input").attrs["value"] == "5000"  # what was typed stays
        assert "expected a number" in page.find(data_field="age").find(cls="field__error").text()
        assert page.find(id="try-error").text() == said[:1].upper() + said[1:]  # the API's words

    def test_a_good_submission_shows_the_prediction_and_is_logged(
        self, client: TestClient, app: FastAPI, fraud_api: Deployed, logged_in: Account
    ) -> None:
        response = submit(client, PAGE, f"{PAGE}/try", {"input.amount": "90", "input.age": "25"})

        assert response.status_code == 200, response.text[:2000]
        answer = parse_html(response.text).find(id="try-answer")
        assert answer.find(id="try-prediction").text() == "1"
        assert [row.find("td").text() for row in answer.find("tbody").find_all("tr")] == ["0", "1"]
        request_id = answer.find("code").text()
        kiln_state(app).prediction_logger.flush()
        with api(app, access_token(app, logged_in)) as rest:
            logged = rest.get(f"{API}/predictions/{request_id}").json()
        assert logged["inputs"] == [{"amount": 90, "age": 25}]
        assert logged["caller"] == logged_in.email


class TestUndeploy:
    def test_an_engineer_undeploys_and_the_page_says_stopped(
        self, client: TestClient, app: FastAPI, fraud_api: Deployed
    ) -> None:
        page = get_page(client, PAGE)
        assert page.find("details", id="undeploy")

        response = submit(client, PAGE, f"{PAGE}/undeploy", {})

        assert response.status_code == 303
        after = get_page(client, response.headers["location"])
        assert "The deployment is stopped" in after.find(role="status").text()
        assert after.find("h1").find(data_status="stopped")
        assert "the deployment is stopped" in after.find(id="deployment-health").text()
        assert not after.find_all("details", id="undeploy")

    def test_a_viewer_sees_no_undeploy_button_and_cannot_post_it(
        self, client: TestClient, app: FastAPI, fraud_api: Deployed
    ) -> None:
        use_session(client, app, make_member(app, Role.viewer))
        assert not get_page(client, PAGE).find_all("details", id="undeploy")
        assert submit(client, PAGE, f"{PAGE}/undeploy", {}).status_code == 403
