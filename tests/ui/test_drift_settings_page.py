"""The drift settings page of a registered model (and of one version): it shows what applies, saves
through the same service as the API (so the API reads back what the form wrote), refuses a bad
threshold with a message naming the row and stores nothing, and removes settings again."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.builders.auth import Account, access_token, api, make_member, open_session
from tests.builders.registry_lifecycle import build_model
from tests.ui.html_tree import Element, get_page
from tests.ui.sessions import submit
from tests.ui.test_monitoring_pages import as_outsider

pytestmark = pytest.mark.usefixtures("logged_in")


@pytest.fixture
def model(app: FastAPI) -> str:
    [version] = build_model(app, versions=1)
    return version.model


def page_of(model: str, version: int | None = None) -> str:
    return f"/models/{model}/drift-settings" + (f"?version={version}" if version else "")


def api_settings(app: FastAPI, account: Account, model: str, version: int | None = None) -> dict[str, Any]:
    path = (
        f"/api/v1/monitoring/models/{model}" + (f"/versions/{version}" if version else "") + "/drift-settings"
    )
    with api(app, access_token(app, account)) as rest:
        answer = rest.get(path)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def row(page: Element, name: str) -> Element:
    return page.find("tr", data_row=name)


def options(cell: Element) -> list[str]:
    return [option.attrs["value"] for option in cell.find_all("option")]


class TestShowing:
    def test_defaults_and_one_row_per_feature_with_the_methods_that_fit_it(
        self, client: TestClient, model: str
    ) -> None:
        page = get_page(client, page_of(model))

        assert page.find("p", id="settings-source").attrs["data-source"] == "defaults"
        assert {element.attrs.get("data-row") for element in page.find_all("tr")} >= {
            "default",
            "amount",
            "age",
            "prediction",
        }
        assert options(row(page, "amount").find("select")) == ["", "auto", "ks", "psi", "wasserstein"]
        assert row(page, "default").find("input", name="default-p_value").attrs["value"] == "0.05"

    def test_the_model_page_links_to_it(self, client: TestClient, model: str) -> None:
        page = get_page(client, f"/models/{model}")

        assert page.find("a", id="drift-settings-link").attrs["href"].startswith(page_of(model))


class TestSaving:
    def test_saved_settings_are_what_the_api_reads(
        self, client: TestClient, app: FastAPI, logged_in: Account, model: str
    ) -> None:
        page = get_page(client, page_of(model))
        amount = row(page, "amount").find("select").attrs["name"].removesuffix("-method")
        age = row(page, "age").find("select").attrs["name"].removesuffix("-method")

        answer = submit(
            client,
            page_of(model),
            page_of(model),
            {
                "default-method": "auto",
                "default-p_value": "0.01",
                f"{amount}-wasserstein": "0.25",
                f"{age}-ignore": "1",
                "drifted_share": "0.3",
            },
        )

        assert answer.status_code == 303, answer.text
        stored = api_settings(app, logged_in, model)
        assert stored["source"] == "model"
        thresholds = stored["thresholds"]
        assert thresholds["default"]["p_value"] == 0.01
        # The override's blank cells come from the default row, not Kiln's defaults.
        assert thresholds["features"]["amount"]["wasserstein"] == 0.25
        assert thresholds["features"]["amount"]["p_value"] == 0.01
        assert set(thresholds["features"]) == {"amount"}
        assert thresholds["ignore"] == ["age"]
        assert thresholds["drifted_share"] == 0.3
        shown = get_page(client, answer.headers["location"])
        assert (
            "next drift report uses them" in shown.find(cls="alert").text()
            if shown.find_all(cls="alert")
            else False
        )
        assert row(shown, "amount").attrs["data-override"] == "yes"
        assert row(shown, "amount").find("input", name=f"{amount}-wasserstein").attrs["value"] == "0.25"

    def test_a_bad_threshold_names_its_row_and_stores_nothing(
        self, client: TestClient, app: FastAPI, logged_in: Account, model: str
    ) -> None:
        page = get_page(client, page_of(model))
        amount = row(page, "amount").find("select").attrs["name"].removesuffix("-method")

        answer = submit(client, page_of(model), page_of(model), {f"{amount}-p_value": "2"})

        assert answer.status_code == 422
        assert "Feature &#39;amount&#39;: p value: Input should be less than 1" in answer.text
        assert 'value="2"' in answer.text  # what was typed is shown again to correct
        assert api_settings(app, logged_in, model)["source"] == "defaults"

    def test_a_method_that_does_not_fit_the_feature_is_refused(
        self, client: TestClient, app: FastAPI, logged_in: Account, model: str
    ) -> None:
        answer = submit(client, page_of(model), page_of(model), {"default-method": "chi2"})

        assert answer.status_code == 422
        assert "does not apply to numeric feature" in answer.text
        assert api_settings(app, logged_in, model)["source"] == "defaults"

    def test_a_version_gets_its_own_and_removing_them_brings_the_models_back(
        self, client: TestClient, app: FastAPI, logged_in: Account, model: str
    ) -> None:
        submit(client, page_of(model), page_of(model), {"default-p_value": "0.02"})
        answer = submit(client, page_of(model, 1), page_of(model, 1), {"default-p_value": "0.001"})
        assert answer.status_code == 303, answer.text
        assert api_settings(app, logged_in, model, 1)["thresholds"]["default"]["p_value"] == 0.001
        assert api_settings(app, logged_in, model)["thresholds"]["default"]["p_value"] == 0.02

        removed = submit(client, page_of(model, 1), f"/models/{model}/drift-settings/delete?version=1", {})

        assert removed.status_code == 303, removed.text
        back = api_settings(app, logged_in, model, 1)
        assert back["source"] == "model"
        assert back["thresholds"]["default"]["p_value"] == 0.02


class TestAccess:
    def test_a_non_member_gets_a_404(self, client: TestClient, app: FastAPI, model: str) -> None:
        as_outsider(app, client)

        get_page(client, page_of(model), status=404)

    def test_a_viewer_reads_them_without_a_save_button(
        self, client: TestClient, app: FastAPI, model: str
    ) -> None:
        viewer = make_member(app, Role.viewer)
        client.cookies.set("kiln_access", open_session(app, viewer).access_token)

        page = get_page(client, page_of(model))

        assert not [button for button in page.find_all("button") if button.text() == "Save settings"]
