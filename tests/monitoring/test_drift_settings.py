"""Drift settings per registered model and version: validated on write, used by the next report,
recorded in it, audited, and hidden from non-members."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_account, make_member, make_project
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.drift import log_served
from tests.builders.registry_lifecycle import BuiltVersion, build_model
from tests.monitoring.test_drift_reports import HOUR, NEXT_HOUR, REPORTS, compute, shifted

# amount tripled is about 3.5 reference standard deviations away: drift at the default 0.1.
LENIENT = {"features": {"amount": {"method": "wasserstein", "wasserstein": 10}}}


@pytest.fixture
def fraud(app: FastAPI, client: TestClient) -> BuiltVersion:
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    return version


def settings_url(model: str, version: int | None = None) -> str:
    tail = "" if version is None else f"/versions/{version}"
    return f"{API}/monitoring/models/{model}{tail}/drift-settings"


def verdicts(report: dict[str, Any]) -> dict[str, bool]:
    return {feature["feature"]: feature["drifted"] for feature in report["features"]}


class TestThresholdsDecideTheVerdict:
    def test_a_threshold_change_flips_a_feature_on_the_same_data_and_old_reports_keep_theirs(
        self, app: FastAPI, client: TestClient, fraud: BuiltVersion
    ) -> None:
        log_served(app, fraud.id, shifted(300, seed=2), start=HOUR)
        log_served(app, fraud.id, shifted(300, seed=2), start=NEXT_HOUR)
        before = compute(client)
        assert verdicts(before)["amount"] is True
        assert before["thresholds_source"] == "defaults"

        put = client.put(settings_url(fraud.model), json=LENIENT)
        assert put.status_code == 200, put.text
        assert put.json()["source"] == "model"

        after = compute(client, start=NEXT_HOUR.isoformat().replace("+00:00", "Z"))
        amount = next(f for f in after["features"] if f["feature"] == "amount")
        assert (amount["drifted"], amount["method"], amount["threshold"]) == (False, "wasserstein", 10)
        assert after["thresholds"]["features"]["amount"]["wasserstein"] == 10
        assert after["thresholds_source"].startswith(f"model '{fraud.model}' drift settings of ")

        kept = client.get(f"{REPORTS}/{before['id']}").json()
        assert verdicts(kept)["amount"] is True  # the old report still says what it used
        assert kept["thresholds"]["features"] == {}

    def test_a_version_override_replaces_the_model_settings_and_ignored_features_leave(
        self, app: FastAPI, client: TestClient, fraud: BuiltVersion
    ) -> None:
        log_served(app, fraud.id, shifted(300, seed=2), start=HOUR)
        assert client.put(settings_url(fraud.model), json=LENIENT).status_code == 200
        override = client.put(settings_url(fraud.model, 1), json={"ignore": ["age"]})
        assert override.status_code == 200, override.text
        read = client.get(settings_url(fraud.model, 1)).json()
        assert (read["source"], read["thresholds"]["ignore"]) == ("version", ["age"])

        report = compute(client)
        assert verdicts(report) == {"amount": True, "prediction": True}  # no age; the model's leniency gone
        assert report["thresholds_source"].startswith(f"model '{fraud.model}' v1 drift settings")

        assert client.delete(settings_url(fraud.model, 1)).status_code == 204
        assert client.get(settings_url(fraud.model, 1)).json()["source"] == "model"

    def test_changes_are_audited_naming_who_and_what(self, client: TestClient, fraud: BuiltVersion) -> None:
        assert client.put(settings_url(fraud.model), json=LENIENT).status_code == 200
        assert client.put(settings_url(fraud.model), json={"drifted_share": 0.3}).status_code == 200
        items = client.get(f"{API}/audit", params={"action": "monitoring.drift_settings_updated"}).json()
        records = [item for item in items["items"] if item["action"] == "monitoring.drift_settings_updated"]
        assert len(records) == 2
        details = [record["details"] for record in records]
        assert any(d["before"] is not None and d["after"]["drifted_share"] == 0.3 for d in details)


class TestRefused:
    @pytest.mark.parametrize(
        ("body", "named"),
        [
            ({"features": {"amonut": {"psi": 0.3}}}, "amonut"),
            ({"ignore": ["zipcode"]}, "zipcode"),
            ({"features": {"amount": {"method": "chi2"}}}, "amount"),
            ({"default": {"method": "ks"}}, "prediction"),  # the classifier's answers are categories
        ],
    )
    def test_a_feature_the_model_does_not_have_or_a_method_that_does_not_fit_is_a_422_naming_it(
        self, client: TestClient, fraud: BuiltVersion, body: dict[str, Any], named: str
    ) -> None:
        answer = client.put(settings_url(fraud.model), json=body)
        assert answer.status_code == 422, answer.text
        assert error_of(answer)["details"]["feature"] == named
        assert repr(named) in error_of(answer)["message"]
        assert client.get(settings_url(fraud.model)).json()["source"] == "defaults"  # nothing stored

    @pytest.mark.parametrize(
        "body",
        [
            {"default": {"p_value": 1.5}},
            {"features": {"amount": {"psi": -1}}},
            {"default": {"jensen_shannon": 2}},
            {"drifted_share": 0},
        ],
    )
    def test_a_threshold_out_of_range_is_a_422(
        self, client: TestClient, fraud: BuiltVersion, body: dict[str, Any]
    ) -> None:
        answer = client.put(settings_url(fraud.model), json=body)
        assert answer.status_code == 422, answer.text

    def test_a_non_member_gets_404_and_a_viewer_reads_but_cannot_change(
        self, app: FastAPI, client: TestClient, fraud: BuiltVersion
    ) -> None:
        outsider = make_account(app, role=Role.ml_engineer)
        with database(app).unit_of_work() as session:
            make_project(session, members={outsider.id: Role.ml_engineer.value})
        other = api(app, access_token(app, outsider))
        for answer in (
            other.get(settings_url(fraud.model)),
            other.put(settings_url(fraud.model), json=LENIENT),
            other.put(settings_url(fraud.model, 1), json=LENIENT),
        ):
            assert answer.status_code == 404, answer.text
            assert f"model '{fraud.model}'" in error_of(answer)["message"]
        viewer = api(app, access_token(app, make_member(app, Role.viewer)))
        assert viewer.get(settings_url(fraud.model)).status_code == 200
        assert viewer.put(settings_url(fraud.model), json=LENIENT).status_code == 403

    def test_an_unknown_version_is_a_404(self, client: TestClient, fraud: BuiltVersion) -> None:
        answer = client.put(settings_url(fraud.model, 9), json=LENIENT)
        assert answer.status_code == 404, answer.text
        assert "no version 9" in error_of(answer)["message"]
