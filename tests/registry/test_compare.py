"""Comparing versions side by side, over the API: what differs is marked, the best metric is named,
an extra input shows as a signature change, and the CSV and HTML exports hold the same facts."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sklearn.ensemble import IsolationForest

from kiln.auth.permissions import Role
from kiln.registry import registration, service
from kiln.registry.model_format import Signature
from kiln.registry.schemas import VersionFromRun, VersionUpdate
from kiln.registry.settings import ModelRegistrySettings
from kiln.storage.store import ArtifactStore
from kiln.tracking.schemas import RunInputCreate
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_account, make_project
from tests.builders.registry import fitted_forest, make_version_from_run, save_run_model, transactions
from tests.builders.tracking import TEST_ACTOR, make_run
from tests.registry.conftest import Committed

COMPARE = f"{API}/models/compare"


def version_with_dataset(
    committed: Committed, store: ArtifactStore, *, dataset_version: str, name: str = "fraud_detector"
) -> None:
    """A version trained by a run that recorded its dataset (``transactions`` at ``dataset_version``)."""
    with committed() as session:
        estimator, X = fitted_forest(n_estimators=30)
        run = make_run(
            session,
            params={"n_estimators": 30},
            inputs=[RunInputCreate(name="transactions", version=dataset_version, digest="ab" * 32)],
        )
        save_run_model(session, store, run, estimator, X)
        registration.register_from_run(
            session,
            TEST_ACTOR,
            store,
            name,
            VersionFromRun(source=f"runs:/{run.id}/model"),
            settings=ModelRegistrySettings(),
        )


@pytest.fixture
def two_versions(committed: Committed, store: ArtifactStore) -> None:
    """fraud_detector 1.0.0 (100 trees, auc 0.81, loss 0.40) and 2 (200 trees, auc 0.86, loss 0.45),
    the second with an extra input ``merchant_risk`` declared; both with contamination auto."""
    with committed() as session:
        make_version_from_run(
            session,
            store,
            label="1.0.0",
            n_estimators=100,
            params={"contamination": "auto"},
            metrics={"auc": 0.81, "loss": 0.40},
        )
        # The second version was trained on one more feature; its signature bounds it to [0, 1].
        X = transactions()
        X = X.assign(merchant_risk=np.linspace(0.0, 1.0, len(X)))
        run = make_run(
            session,
            params={"n_estimators": 200, "contamination": "auto"},
            metrics={"auc": 0.86, "loss": 0.45},
        )
        save_run_model(session, store, run, IsolationForest(n_estimators=200, random_state=0).fit(X), X)
        second = registration.register_from_run(
            session,
            TEST_ACTOR,
            store,
            "fraud_detector",
            VersionFromRun(source=f"runs:/{run.id}/model"),
            settings=ModelRegistrySettings(),
        )
        read = service.get_version(session, TEST_ACTOR, "fraud_detector", str(second.number))
        signature = Signature.model_validate(read.descriptor["signature"])
        bounded = [
            spec.model_copy(update={"minimum": 0.0, "maximum": 1.0}) if spec.name == "merchant_risk" else spec
            for spec in signature.inputs
        ]
        service.update_version(
            session,
            TEST_ACTOR,
            "fraud_detector",
            "2",
            VersionUpdate(signature=signature.model_copy(update={"inputs": bounded})),
            store=store,
            settings=ModelRegistrySettings(),
        )


def compare(client: TestClient, *refs: str, expect: int = 200, **params: str) -> Any:
    response = client.get(COMPARE, params={"versions": list(refs), **params})
    assert response.status_code == expect, response.text
    return response


def row(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(item for item in rows if item["key"] == key)


@pytest.mark.usefixtures("two_versions")
class TestComparison:
    def test_columns_name_each_version(self, client: TestClient) -> None:
        body = compare(client, "fraud_detector:1.0.0", "fraud_detector:2").json()

        first, second = body["versions"]
        assert (first["ref"], first["number"], first["label"], first["stage"]) == (
            "fraud_detector:1.0.0",
            1,
            "1.0.0",
            "development",
        )
        assert (second["number"], second["flavor"]) == (2, "sklearn")
        assert second["size_bytes"] > 0
        assert second["file_count"] >= 1
        assert first["source_run_id"] != second["source_run_id"]
        assert body["generated_by"]

    def test_differing_params_are_marked_and_equal_ones_are_not(self, client: TestClient) -> None:
        params = compare(client, "fraud_detector:1", "fraud_detector:2").json()["params"]

        assert row(params, "n_estimators") == {
            "key": "n_estimators",
            "values": ["100", "200"],
            "differs": True,
        }
        assert row(params, "contamination")["differs"] is False

    def test_the_best_metric_is_marked_with_its_difference_to_the_baseline(self, client: TestClient) -> None:
        metrics = compare(client, "fraud_detector:1", "fraud_detector:2").json()["metrics"]

        auc = row(metrics, "auc")
        assert (auc["best"], auc["higher_is_better"], auc["differs"]) == ([1], True, True)
        assert auc["delta"][0] == 0
        assert auc["delta"][1] == pytest.approx(0.05)
        loss = row(metrics, "loss")
        assert (loss["best"], loss["higher_is_better"]) == ([0], False)

    def test_an_extra_input_shows_as_a_signature_change(self, client: TestClient) -> None:
        body = compare(client, "fraud_detector:1", "fraud_detector:2").json()

        added = [change for change in body["signature_changes"] if change["change"] == "added"]
        assert added == [
            {
                "version": 1,
                "field": "merchant_risk",
                "change": "added",
                "baseline": None,
                "value": "number [0, 1]",
            }
        ]
        assert row(body["signature"], "inputs.merchant_risk") == {
            "key": "inputs.merchant_risk",
            "values": [None, "number [0, 1]"],
            "differs": True,
        }
        assert row(body["signature"], "inputs.amount")["differs"] is False

    def test_significance_is_an_empty_section_saying_what_it_needs(self, client: TestClient) -> None:
        significance = compare(client, "fraud_detector:1", "fraud_detector:2").json()["significance"]

        assert significance["available"] is False
        assert significance["results"] == []
        assert "holdout" in significance["reason"]

    def test_the_csv_parses_back_to_the_same_values(self, client: TestClient) -> None:
        response = compare(client, "fraud_detector:1", "fraud_detector:2", format="csv")

        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        table = list(csv.reader(io.StringIO(response.text)))
        assert table[0] == ["section", "key", "differs", "fraud_detector:1", "fraud_detector:2", "note"]
        by_field = {(line[0], line[1]): line for line in table[1:]}
        assert by_field[("params", "n_estimators")][2:5] == ["yes", "100", "200"]
        assert by_field[("params", "contamination")][2:5] == ["no", "auto", "auto"]
        auc = by_field[("metrics", "auc")]
        assert [float(auc[3]), float(auc[4])] == [0.81, 0.86]
        assert "fraud_detector:2" in auc[5]
        assert by_field[("signature", "inputs.merchant_risk")][3:5] == ["", "number [0, 1]"]
        assert by_field[("version", "label")][3:5] == ["1.0.0", ""]

    def test_the_html_report_is_one_document_with_nothing_external(self, client: TestClient) -> None:
        response = compare(client, "fraud_detector:1", "fraud_detector:2", format="html")

        html = response.text
        assert response.headers["content-type"].startswith("text/html")
        assert html.count("<html") == 1
        assert "<script" not in html
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
        assert "<style>" in html
        assert "n_estimators" in html
        assert "merchant_risk" in html
        assert "Generated " in html
        assert "Significance" in html


def test_user_text_is_escaped_in_the_report(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, params={"<script>alert(1)</script>": "<b>x</b>"})
        make_version_from_run(session, store)
        service.update_version(
            session,
            TEST_ACTOR,
            "fraud_detector",
            "1",
            VersionUpdate(description="<script>steal()</script>"),
            store=store,
            settings=ModelRegistrySettings(),
        )

    html = compare(client, "fraud_detector:1", "fraud_detector:2", format="html").text

    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_training_data_says_whether_the_datasets_are_the_same(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    version_with_dataset(committed, store, dataset_version="7")
    version_with_dataset(committed, store, dataset_version="8")
    version_with_dataset(committed, store, dataset_version="8")

    data = compare(client, "fraud_detector:1", "fraud_detector:2").json()["training_data"]
    same = compare(client, "fraud_detector:2", "fraud_detector:3").json()["training_data"]

    assert data[0]["key"] == "transactions"
    assert data[0]["differs"] is True
    assert "version 7" in data[0]["values"][0]
    assert "version 8" in data[0]["values"][1]
    assert same[0]["differs"] is False


def test_versions_of_different_models_compare(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, name="fraud_detector", metrics={"auc": 0.8})
        make_version_from_run(session, store, name="churn", metrics={"auc": 0.9})

    body = compare(client, "fraud_detector:1", "churn:1").json()

    assert [version["model"] for version in body["versions"]] == ["fraud_detector", "churn"]
    assert row(body["metrics"], "auc")["best"] == [1]


class TestRefused:
    @pytest.mark.usefixtures("two_versions")
    def test_a_non_member_gets_not_found_naming_the_version(self, app: FastAPI, committed: Committed) -> None:
        outsider = make_account(app, role=Role.ml_engineer)
        with committed() as session:
            make_project(session, members={outsider.id: Role.ml_engineer.value})
        with api(app, access_token(app, outsider)) as client:
            for format in ("json", "csv", "html"):
                response = compare(client, "fraud_detector:1", "fraud_detector:2", expect=404, format=format)
                assert "fraud_detector:1" in error_of(response)["message"]

    @pytest.mark.usefixtures("two_versions")
    def test_an_unknown_version_is_not_found_by_name(self, client: TestClient) -> None:
        response = compare(client, "fraud_detector:1", "fraud_detector:9", expect=404)

        error = error_of(response)
        assert "fraud_detector:9" in error["message"]
        assert error["details"] == {"model": "fraud_detector", "version": "9"}

    @pytest.mark.usefixtures("two_versions")
    def test_one_version_is_too_few(self, client: TestClient) -> None:
        message = error_of(compare(client, "fraud_detector:1", expect=422))["message"]

        assert "between 2 and 20" in message
        assert "1 given" in message

    def test_more_than_twenty_is_too_many(self, client: TestClient) -> None:
        refs = [f"fraud_detector:{number}" for number in range(1, 22)]

        message = error_of(compare(client, *refs, expect=422))["message"]

        assert "between 2 and 20" in message
        assert "21 given" in message

    def test_a_reference_without_a_model_says_how_to_write_one(self, client: TestClient) -> None:
        message = error_of(compare(client, "3", "fraud_detector:1", expect=422))["message"]

        assert "model:version" in message

    @pytest.mark.usefixtures("two_versions")
    def test_two_references_to_one_version_are_refused(self, client: TestClient) -> None:
        message = error_of(compare(client, "fraud_detector:1", "fraud_detector:1.0.0", expect=422))["message"]

        assert "same version" in message

    def test_no_versions_at_all_asks_for_them(self, client: TestClient) -> None:
        assert client.get(COMPARE).status_code == 422
