"""Every list route answers a member of another project with nothing of project A.

The routes are found, not listed: every GET route of the app whose response is a ``Page`` or a list.
So a new domain's list that forgets ``auth.projects.scoped`` fails here, with its path. Path
parameters are filled with project A's ids (a route with a parameter this test cannot fill fails,
naming it). As a positive control, project A's own member sees A's things on every such route that
answers 200, so the check cannot pass by looking for markers that never appear.
"""

from __future__ import annotations

import re
import typing
from datetime import timedelta

import httpx
import pytest
from examples.pipelines import training
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.core.actor import SYSTEM
from kiln.core.ids import utcnow
from kiln.core.schemas import Page
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.alert_rules import create_rule
from kiln.monitoring.alert_schemas import AlertRuleCreate
from kiln.monitoring.retraining import create_retraining_trigger
from kiln.monitoring.retraining_schemas import RetrainingTriggerCreate
from kiln.monitoring.tasks import TICK
from kiln.monitoring.windows import window_start
from kiln.pipelines.schemas import PipelineRegister
from kiln.pipelines.service import register_pipeline
from kiln.serving import deployments
from kiln.serving.deployment_schemas import DeploymentSpec
from tests.auth.test_authorization_matrix import _route_contexts
from tests.builders import unique
from tests.builders.alerts import add_windows
from tests.builders.auth import api, make_account, make_project, open_session
from tests.builders.core import database
from tests.builders.datasets import create_telemetry
from tests.builders.drift import stored_drift_report
from tests.builders.jobs import make_job, make_schedule
from tests.builders.notify import send
from tests.builders.registry_lifecycle import build_lifecycle_trail
from tests.builders.serving import log_predictions, prediction
from tests.tracking.api import API, create_experiment, create_run, log_batch

PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def _returns_a_list(route: APIRoute) -> bool:
    model = route.response_model
    if typing.get_origin(model) is list:
        return True
    return isinstance(model, type) and issubclass(model, Page)


# Lists of the caller's own preferences, the same shape for everyone: nothing in them belongs to a project.
PERSONAL_LISTS = {f"{API}/me/notification-settings"}


def list_routes(app: FastAPI) -> list[str]:
    found = set()
    for route in _route_contexts(app):
        original = getattr(route, "original_route", route)
        if str(getattr(route, "path", "")) in PERSONAL_LISTS:
            continue
        if isinstance(original, APIRoute) and "GET" in original.methods and _returns_a_list(original):
            found.add(str(route.path))  # type: ignore[attr-defined]
    return sorted(found)


class ProjectA:
    """Project A with one member, an experiment, a run with params, metrics, tags and an artifact,
    and a key in the project: the markers below must never reach anyone outside it."""

    def __init__(self, app: FastAPI) -> None:
        member = make_account(app, role=Role.data_scientist)
        with database(app).unit_of_work() as session:
            project = make_project(session, unique("team-a"), members={member.id: Role.data_scientist.value})
            self.project_id = project.id
        self.client = api(app, open_session(app, member).access_token)
        self.experiment = create_experiment(self.client, unique("secret-exp"), project=self.project_id)
        self.run = create_run(self.client, self.experiment["id"], name=unique("secret-run"))
        log_batch(
            self.client,
            self.run["id"],
            metrics=[{"key": "secret_metric", "value": 0.5}],
            params={"secret_param": "x"},
            tags={"secret_tag": "y"},
        )
        uploaded = self.client.put(f"{API}/runs/{self.run['id']}/artifacts/secret.txt", content=b"a")
        assert uploaded.status_code == 201, uploaded.text
        self.notice = unique("secret-notice")
        send(app, [member], title=self.notice, project_id=self.project_id)
        self.deployment = unique("secret-deployment")
        log_predictions(database(app), [prediction(self.project_id, deployment=self.deployment)])
        key = {"name": "a-key", "project_id": self.project_id, "role": "viewer"}
        assert self.client.post(f"{API}/me/api-keys", json=key).status_code == 201
        self.model = build_lifecycle_trail(app, self.project_id, unique("secret-model"))
        with database(app).unit_of_work() as session:
            spec = DeploymentSpec(model=self.model.model, version=self.model.number, project=self.project_id)
            deployments.deploy(session, SYSTEM, self.deployment, spec)
        # Alerts: the built-in rules with their in-app channel, and the incident of a rule that fired.
        minute = window_start(utcnow() - timedelta(hours=1), 60)
        add_windows(database(app), self.project_id, self.deployment, "errors", {minute: 5.0})
        with database(app).unit_of_work() as session:
            rule = AlertRuleCreate(deployment=self.deployment, metric="errors", comparison=">", threshold=1)
            create_rule(session, SYSTEM, rule)
            assert evaluate_alerts(session, minute + timedelta(minutes=1)).fired
        # A stored drift report of the deployment (the list of them is project-scoped too).
        with database(app).unit_of_work() as session:
            report = stored_drift_report(self.project_id, self.deployment, minute)
            session.add(report)
            session.flush()
            self.drift_report = report.id
        # A registered pipeline and a cron schedule of the project.
        with database(app).unit_of_work() as session:
            data = PipelineRegister(spec=training.spec(), project=self.project_id)
            register_pipeline(session, SYSTEM, data, allowed_modules=["examples"])
            retrain = RetrainingTriggerCreate(deployment=self.deployment, pipeline="training")
            create_retraining_trigger(session, SYSTEM, retrain)
        self.schedule = unique("secret-schedule")
        make_schedule(app, TICK, project_id=self.project_id, name=self.schedule)
        # A queued job of the project (any registered kind: no worker runs in tests).
        self.job_id = make_job(database(app), TICK, project_id=self.project_id)
        self.dataset = create_telemetry(self.client, unique("secret-dataset"), project=self.project_id)[
            "name"
        ]
        self.path_values = {
            "project_id": self.project_id,
            "experiment_id": self.experiment["id"],
            "run_id": self.run["id"],
            "user_id": member.id,
            "name": self.model.model,
            "deployment": self.deployment,
        }
        self.markers = [
            self.project_id,
            self.experiment["id"],
            self.run["id"],
            self.experiment["name"],
            member.email,
            "secret.txt",
            self.notice,
            self.model.model,
            self.model.model_id,
            self.deployment,
            self.job_id,
            self.dataset,
            self.schedule,
            self.drift_report,
        ]

    def concrete(self, path: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in self.path_values, f"{path}: give this test an id of project A for {{{name}}}"
            return self.path_values[name]

        return PARAMETER.sub(value, path)

    def leaked(self, response: httpx.Response) -> list[str]:
        # An id the caller sent may come back in the answer ("run '…' not found"): that tells nothing.
        asked = response.request.url.path
        return [marker for marker in self.markers if marker in response.text and marker not in asked]


def outsider_clients(app: FastAPI) -> dict[str, TestClient]:
    """A member of project B (logged in) and project B's own admin key."""
    outsider = make_account(app, role=Role.ml_engineer)
    with database(app).unit_of_work() as session:
        project_b = make_project(session, unique("team-b"), members={outsider.id: Role.admin.value}).id
    member = api(app, open_session(app, outsider).access_token)
    create_experiment(member, unique("b-exp"), project=project_b)
    created = member.post(
        f"{API}/me/api-keys", json={"name": "b", "project_id": project_b, "role": "ml_engineer"}
    )
    assert created.status_code == 201, created.text
    return {"member of B": member, "key of B": api(app, created.json()["key"])}


class TestEveryListIsScopedToTheCallersProjects:
    def test_the_walk_finds_the_list_routes(self, app: FastAPI) -> None:
        found = list_routes(app)
        for expected in (f"{API}/experiments", f"{API}/runs", f"{API}/projects", f"{API}/audit"):
            assert expected in found

    @pytest.fixture
    def project_a(self, app: FastAPI) -> ProjectA:
        return ProjectA(app)

    def test_project_a_sees_its_own_things_on_every_list(self, app: FastAPI, project_a: ProjectA) -> None:
        blind = []
        for path in list_routes(app):
            response = project_a.client.get(project_a.concrete(path))
            if response.status_code == 200 and not project_a.leaked(response):
                blind.append(path)
        assert not blind, f"the positive control sees nothing of project A on: {blind}"

    def test_another_projects_member_and_key_get_nothing_of_project_a(
        self, app: FastAPI, project_a: ProjectA
    ) -> None:
        problems = []
        for caller, client in outsider_clients(app).items():
            for path in list_routes(app):
                response = client.get(project_a.concrete(path))
                if response.status_code >= 500 or response.status_code in (401,):
                    problems.append(f"{caller} GET {path}: {response.status_code}")
                elif leaked := project_a.leaked(response):
                    problems.append(f"{caller} GET {path}: {response.status_code} shows {leaked}")
        assert not problems, "project A's things reach outsiders:\n" + "\n".join(problems)
