"""Registry pages: the model list, a model's versions, a version's metadata, and the upload form."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.storage.store import ArtifactStore
from tests.builders.auth import make_account
from tests.builders.registry import fitted_forest, make_version_from_run, save_folder
from tests.registry.conftest import Committed
from tests.ui.html_tree import parse_html
from tests.ui.sessions import form_token, use_session


@pytest.fixture
def pages(anonymous_client: TestClient, app: FastAPI) -> TestClient:
    use_session(anonymous_client, app, make_account(app, role=Role.admin))
    return anonymous_client


def test_the_model_list_model_and_version_pages_render(
    pages: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, label="1.0.0", metrics={"auc": 0.93})
    listed = pages.get("/models")
    assert listed.status_code == 200
    assert "fraud_detector" in parse_html(listed.text).find(id="models-table").text()

    model = pages.get("/models/fraud_detector")
    assert model.status_code == 200
    assert "1.0.0" in parse_html(model.text).find(id="versions-table").text()

    version = pages.get("/models/fraud_detector/versions/1.0.0")
    assert version.status_code == 200
    tree = parse_html(version.text)
    assert "amount" in tree.find(id="signature-table").text()
    assert "auc" in tree.find(id="params-table").text()
    files = tree.find(id="files-table").text()
    assert "model.skops" in files
    assert tree.find(id="version-lifecycle") is not None
    assert tree.find(id="version-lineage") is not None


def test_an_unknown_model_is_the_not_found_page(pages: TestClient) -> None:
    assert pages.get("/models/nope").status_code == 404


def test_the_upload_form_saves_a_draft(pages: TestClient) -> None:
    forest, X = fitted_forest()
    payload = (save_folder(forest, X) / "model.skops").read_bytes()
    token = form_token(pages, "/models/upload")
    response = pages.post(
        "/models/upload",
        data={
            "csrf_token": token,
            "name": "fraud_detector",
            "label": "1.0.0",
            "description": "uploaded by hand",
            "inputs-0-name": "amount",
            "inputs-0-type": "number",
            "inputs-0-minimum": "0",
            "inputs-0-required": "on",
            "inputs-0-description": "in euros",
        },
        files={"file": ("model.skops", payload)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:2000]
    page = pages.get(response.headers["location"])
    assert "draft" in page.text
    assert "in euros" in page.text


def test_the_upload_form_shows_what_is_wrong(pages: TestClient) -> None:
    token = form_token(pages, "/models/upload")
    response = pages.post(
        "/models/upload",
        data={"csrf_token": token, "name": "fraud_detector", "label": "1.0.0"},
        files={"file": ("notes.txt", b"hello")},
    )
    assert response.status_code == 400
    assert "not a model file" in response.text
