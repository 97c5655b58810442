"""The compare page: ticked versions of the model page side by side, with CSV and HTML downloads."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.storage.store import ArtifactStore
from tests.builders.auth import make_account
from tests.builders.registry import make_version_from_run
from tests.registry.conftest import Committed
from tests.ui.html_tree import get_page
from tests.ui.sessions import use_session


@pytest.fixture
def pages(
    anonymous_client: TestClient, app: FastAPI, committed: Committed, store: ArtifactStore
) -> TestClient:
    with committed() as session:
        make_version_from_run(session, store, label="1.0.0", n_estimators=100, metrics={"auc": 0.81})
        make_version_from_run(session, store, n_estimators=200, metrics={"auc": 0.86})
    use_session(anonymous_client, app, make_account(app, role=Role.viewer, project_role=Role.viewer))
    return anonymous_client


def test_the_model_page_offers_checkboxes_and_a_compare_button(pages: TestClient) -> None:
    page = get_page(pages, "/models/fraud_detector")

    form = page.find("form", id="compare-form")
    assert form.attrs["action"] == "/models/fraud_detector/compare"
    boxes = page.find_all("input", type="checkbox", name="versions")
    assert sorted(box.attrs["value"] for box in boxes) == ["1", "2"]
    assert page.find(id="compare-button") is not None


def test_the_compare_page_marks_differences_and_links_the_exports(pages: TestClient) -> None:
    page = get_page(pages, "/models/fraud_detector/compare?versions=1&versions=2")

    trees = page.find("tr", **{"data-key": "n_estimators"})
    assert "differs" in trees.classes
    assert "100" in trees.text()
    assert "200" in trees.text()
    best = page.find(id="metrics-table").find("td", cls="best")
    assert "0.86" in best.text()
    csv_link = page.find(id="download-csv").attrs["href"]
    query = parse_qs(urlsplit(csv_link).query)
    assert query["versions"] == ["fraud_detector:1", "fraud_detector:2"]
    assert query["format"] == ["csv"]
    downloaded = pages.get(csv_link)
    assert downloaded.status_code == 200, downloaded.text
    assert "n_estimators" in downloaded.text
    report = pages.get(page.find(id="download-html").attrs["href"])
    assert report.status_code == 200
    assert report.text.startswith("<!DOCTYPE html>")


def test_one_ticked_version_says_to_tick_two(pages: TestClient) -> None:
    page = get_page(pages, "/models/fraud_detector/compare?versions=1", status=422)

    assert "at least 2 versions" in page.text()


def test_an_unknown_version_is_the_not_found_page(pages: TestClient) -> None:
    page = get_page(pages, "/models/fraud_detector/compare?versions=1&versions=9", status=404)

    assert "fraud_detector:9" in page.text()
