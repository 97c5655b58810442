"""Who may call what: every route of the app, for every role and for an anonymous caller.

The rules are written out below, one row per (method, path template). A route the table does not
list fails the test, so nobody can add a route without deciding who may call it; a row for a route
that no longer exists fails too, so the table cannot rot. Which roles hold a permission comes from
the permission table in ``kiln.auth.permissions``; rows name ``Permission`` members, never strings.

Expected outcomes:
- anonymous: 401 on the API (a redirect to the login page for UI pages) unless the row is PUBLIC;
- a role without the row's permission: 403;
- a role with it: neither 401 nor 403 (404 or 422 from the dummy ids and empty bodies is fine).

API keys call the API too: a project's admin key and viewer key, and an admin's global key. A key
is refused (403) what its role lacks, every account permission (``ACCOUNT_PERMISSIONS``), and, for
a project key, every permission beyond one project (``GLOBAL_PERMISSIONS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from kiln.auth.permissions import ACCOUNT_PERMISSIONS, GLOBAL_PERMISSIONS, Role, allows
from kiln.core.permissions import Permission as P
from tests.auth.apps import BuildApp
from tests.builders.auth import api, default_project_id, make_member, open_session
from tests.ui.sessions import form_token

PUBLIC = "public"  # not a Permission: anyone may call it
Rule = P | str  # a Permission, or PUBLIC
MOUNT = "MOUNT"  # a mounted app (static files): every GET below its path

# The JSON API and the operational endpoints: anonymous callers get 401.
API_RULES: dict[tuple[str, str], Rule] = {
    # operations and documentation
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/assets/{name}"): PUBLIC,
    # logging in and mailed links
    ("POST", "/api/v1/auth/register"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    ("POST", "/api/v1/auth/confirm-email"): PUBLIC,
    ("POST", "/api/v1/auth/password-reset"): PUBLIC,
    ("POST", "/api/v1/auth/password-reset/confirm"): PUBLIC,
    # the caller's own account
    ("GET", "/api/v1/me"): P.profile_read,
    ("PATCH", "/api/v1/me"): P.profile_write,
    ("POST", "/api/v1/me/password"): P.profile_write,
    ("GET", "/api/v1/me/api-keys"): P.api_keys_write,
    ("POST", "/api/v1/me/api-keys"): P.api_keys_write,
    ("DELETE", "/api/v1/me/api-keys/current"): P.api_keys_revoke,
    ("DELETE", "/api/v1/me/api-keys/{key_id}"): P.api_keys_revoke,
    # administration
    ("GET", "/api/v1/users"): P.users_admin,
    ("POST", "/api/v1/users"): P.users_admin,
    ("GET", "/api/v1/users/{user_id}"): P.users_admin,
    ("PATCH", "/api/v1/users/{user_id}"): P.users_admin,
    ("POST", "/api/v1/users/{user_id}/password-reset"): P.users_admin,
    ("GET", "/api/v1/users/{user_id}/activity"): P.users_admin,
    ("POST", "/api/v1/invites"): P.users_admin,
    ("GET", "/api/v1/projects"): P.projects_read,
    ("POST", "/api/v1/projects"): P.projects_create,
    ("GET", "/api/v1/projects/{project_id}/members"): P.projects_read,
    ("PUT", "/api/v1/projects/{project_id}/members"): P.projects_admin,
    ("DELETE", "/api/v1/projects/{project_id}/members/{user_id}"): P.projects_admin,
    # the audit trail
    ("GET", "/api/v1/audit"): P.audit_read,
    ("GET", "/api/v1/audit/export"): P.audit_read,
    # lineage
    ("GET", "/api/v1/lineage/{kind}/{node_id:path}"): P.lineage_read,
    ("GET", "/api/v1/audit/verify"): P.audit_read,
    # the job queue
    ("GET", "/api/v1/jobs"): P.jobs_read,
    ("GET", "/api/v1/jobs/{job_id}"): P.jobs_read,
    ("POST", "/api/v1/jobs/{job_id}/cancel"): P.jobs_write,
    ("POST", "/api/v1/jobs/{job_id}/retry"): P.jobs_write,
    # pipelines: definitions and versions, runs and their logs, new-data triggers
    ("POST", "/api/v1/pipelines"): P.pipelines_write,
    ("GET", "/api/v1/pipelines"): P.pipelines_read,
    ("GET", "/api/v1/pipelines/{name}"): P.pipelines_read,
    ("GET", "/api/v1/pipelines/{name}/versions"): P.pipelines_read,
    ("GET", "/api/v1/pipelines/{name}/versions/{number}"): P.pipelines_read,
    ("GET", "/api/v1/pipelines/{name}/diff"): P.pipelines_read,
    ("POST", "/api/v1/pipelines/{name}/runs"): P.pipelines_run,
    ("GET", "/api/v1/pipelines/{name}/runs"): P.pipelines_read,
    ("GET", "/api/v1/pipelines/{name}/runs/{run_id}"): P.pipelines_read,
    ("GET", "/api/v1/pipelines/{name}/runs/{run_id}/logs"): P.pipelines_read,
    ("POST", "/api/v1/pipelines/{name}/triggers"): P.pipelines_write,
    ("GET", "/api/v1/pipelines/{name}/triggers"): P.pipelines_read,
    ("DELETE", "/api/v1/pipelines/{name}/triggers/{trigger_id}"): P.pipelines_write,
    ("GET", "/api/v1/schedules"): P.schedules_read,
    ("POST", "/api/v1/schedules"): P.schedules_write,
    ("GET", "/api/v1/schedules/{schedule_id}"): P.schedules_read,
    ("PATCH", "/api/v1/schedules/{schedule_id}"): P.schedules_write,
    ("DELETE", "/api/v1/schedules/{schedule_id}"): P.schedules_write,
    # the prediction log and its feedback
    ("GET", "/api/v1/predictions"): P.deployments_read,
    ("GET", "/api/v1/predictions/export.csv"): P.deployments_read,
    ("GET", "/api/v1/predictions/{request_id}"): P.deployments_read,
    ("POST", "/api/v1/predictions/feedback"): P.predictions_create,
    ("GET", "/api/v1/monitoring/metrics"): P.monitors_read,
    ("GET", "/api/v1/monitoring/drift"): P.monitors_read,
    ("POST", "/api/v1/monitoring/windows"): P.monitors_write,
    ("GET", "/api/v1/monitoring/deployments/{deployment}/drift-reports"): P.monitors_read,
    ("POST", "/api/v1/monitoring/deployments/{deployment}/drift-reports"): P.monitors_write,
    ("GET", "/api/v1/monitoring/deployments/{deployment}/drift-reports/{report_id}"): P.monitors_read,
    ("GET", "/api/v1/monitoring/deployments/{deployment}/drift-features/{feature}"): P.monitors_read,
    ("GET", "/api/v1/monitoring/models/{model}/drift-settings"): P.monitors_read,
    ("PUT", "/api/v1/monitoring/models/{model}/drift-settings"): P.monitors_write,
    ("DELETE", "/api/v1/monitoring/models/{model}/drift-settings"): P.monitors_write,
    ("GET", "/api/v1/monitoring/models/{model}/versions/{version}/drift-settings"): P.monitors_read,
    ("PUT", "/api/v1/monitoring/models/{model}/versions/{version}/drift-settings"): P.monitors_write,
    ("DELETE", "/api/v1/monitoring/models/{model}/versions/{version}/drift-settings"): P.monitors_write,
    ("POST", "/api/v1/monitoring/retraining"): P.monitors_write,
    ("GET", "/api/v1/monitoring/retraining"): P.monitors_read,
    ("DELETE", "/api/v1/monitoring/retraining/{trigger_id}"): P.monitors_write,
    ("GET", "/api/v1/alerts/rules"): P.alerts_read,
    ("POST", "/api/v1/alerts/rules"): P.alerts_write,
    ("POST", "/api/v1/alerts/rules/builtin"): P.alerts_write,
    ("GET", "/api/v1/alerts/rules/{rule_id}"): P.alerts_read,
    ("PATCH", "/api/v1/alerts/rules/{rule_id}"): P.alerts_write,
    ("DELETE", "/api/v1/alerts/rules/{rule_id}"): P.alerts_write,
    ("GET", "/api/v1/alerts/incidents"): P.alerts_read,
    ("GET", "/api/v1/alerts/incidents/{incident_id}"): P.alerts_read,
    ("POST", "/api/v1/alerts/incidents/{incident_id}/ack"): P.alerts_write,
    ("GET", "/api/v1/alerts/channels"): P.alerts_read,
    ("POST", "/api/v1/alerts/channels"): P.alerts_write,
    ("GET", "/api/v1/alerts/channels/{channel_id}"): P.alerts_read,
    ("PATCH", "/api/v1/alerts/channels/{channel_id}"): P.alerts_write,
    ("DELETE", "/api/v1/alerts/channels/{channel_id}"): P.alerts_write,
    ("POST", "/api/v1/alerts/channels/{channel_id}/test"): P.alerts_write,
    ("GET", "/api/v1/alerts/deliveries/{delivery_id}"): P.alerts_read,
    ("POST", "/api/v1/predictions/{request_id}/feedback"): P.predictions_create,
    # the caller's notifications (a key may read and mark them; only a person changes the settings)
    ("GET", "/api/v1/notifications"): P.profile_read,
    ("GET", "/api/v1/notifications/unread-count"): P.profile_read,
    ("POST", "/api/v1/notifications/read-all"): P.profile_read,
    ("POST", "/api/v1/notifications/{notification_id}/read"): P.profile_read,
    ("GET", "/api/v1/me/notification-settings"): P.profile_read,
    ("PUT", "/api/v1/me/notification-settings"): P.profile_write,
    # tracking
    ("POST", "/api/v1/experiments"): P.experiments_write,
    ("GET", "/api/v1/experiments"): P.experiments_read,
    ("GET", "/api/v1/experiments/{experiment_id}"): P.experiments_read,
    ("PATCH", "/api/v1/experiments/{experiment_id}"): P.experiments_write,
    ("POST", "/api/v1/runs"): P.runs_write,
    ("GET", "/api/v1/runs"): P.runs_read,
    ("GET", "/api/v1/runs/compare"): P.runs_read,
    ("GET", "/api/v1/runs/{run_id}"): P.runs_read,
    ("PATCH", "/api/v1/runs/{run_id}"): P.runs_write,
    ("POST", "/api/v1/runs/{run_id}/batch"): P.runs_write,
    ("POST", "/api/v1/runs/{run_id}/metrics"): P.runs_write,
    ("POST", "/api/v1/runs/{run_id}/params"): P.runs_write,
    ("POST", "/api/v1/runs/{run_id}/tags"): P.runs_write,
    ("GET", "/api/v1/runs/{run_id}/metrics/history"): P.runs_read,
    ("GET", "/api/v1/runs/{run_id}/reproduce"): P.runs_read,
    ("GET", "/api/v1/runs/{run_id}/artifacts"): P.artifacts_read,
    ("PUT", "/api/v1/runs/{run_id}/artifacts/{path:path}"): P.artifacts_write,
    ("GET", "/api/v1/runs/{run_id}/artifacts/{path:path}"): P.artifacts_read,
    # data
    ("POST", "/api/v1/datasets"): P.datasets_write,
    ("GET", "/api/v1/datasets"): P.datasets_read,
    ("GET", "/api/v1/datasets/{name}"): P.datasets_read,
    ("PATCH", "/api/v1/datasets/{name}"): P.datasets_write,
    ("POST", "/api/v1/datasets/{name}/versions"): P.datasets_write,
    ("GET", "/api/v1/datasets/{name}/versions"): P.datasets_read,
    ("GET", "/api/v1/datasets/{name}/versions/{version}"): P.datasets_read,
    ("GET", "/api/v1/datasets/{name}/versions/{version}/download"): P.datasets_read,
    ("GET", "/api/v1/datasets/{name}/diff"): P.datasets_read,
    ("POST", "/api/v1/datasets/{name}/records"): P.datasets_write,
    ("POST", "/api/v1/datasets/{name}/records/file"): P.datasets_write,
    ("GET", "/api/v1/datasets/{name}/pending"): P.datasets_read,
    ("POST", "/api/v1/datasets/{name}/versions/commit"): P.datasets_write,
    ("GET", "/api/v1/datasets/{name}/quarantine"): P.datasets_read,
    ("GET", "/api/v1/datasets/{name}/quarantine/download"): P.datasets_read,
    ("POST", "/api/v1/datasets/{name}/quarantine/release"): P.quarantine_review,
    ("POST", "/api/v1/datasets/{name}/quarantine/discard"): P.quarantine_review,
    # registry
    ("POST", "/api/v1/models"): P.models_write,
    ("GET", "/api/v1/models"): P.models_read,
    ("GET", "/api/v1/models/search"): P.models_read,
    ("GET", "/api/v1/models/compare"): P.models_read,
    ("GET", "/api/v1/models/{name}"): P.models_read,
    ("PATCH", "/api/v1/models/{name}"): P.models_write,
    ("POST", "/api/v1/models/{name}/versions"): P.models_write,
    ("POST", "/api/v1/models/{name}/versions/upload"): P.models_write,
    ("GET", "/api/v1/models/{name}/versions"): P.models_read,
    ("GET", "/api/v1/models/{name}/versions/{version}"): P.models_read,
    ("PATCH", "/api/v1/models/{name}/versions/{version}"): P.models_write,
    ("POST", "/api/v1/models/{name}/versions/{version}/finish"): P.models_write,
    ("GET", "/api/v1/models/{name}/versions/{version}/files/{path}"): P.models_read,
    ("GET", "/api/v1/models/{name}/versions/{version}/download"): P.models_read,
    # registry lifecycle
    ("POST", "/api/v1/models/{name}/versions/{version}/stage"): P.models_promote_staging,
    ("POST", "/api/v1/models/{name}/versions/{version}/approval-requests"): P.models_promote_production,
    ("GET", "/api/v1/approvals"): P.models_read,
    ("GET", "/api/v1/approvals/{approval_id}"): P.models_read,
    ("POST", "/api/v1/approvals/{approval_id}/approve"): P.models_approve,
    ("POST", "/api/v1/approvals/{approval_id}/reject"): P.models_approve,
    ("POST", "/api/v1/models/{name}/rollback"): P.models_promote_production,
    ("GET", "/api/v1/models/{name}/history"): P.models_read,
    ("GET", "/api/v1/models/{name}/production"): P.models_read,
    ("GET", "/api/v1/models/{name}/aliases"): P.models_read,
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): P.models_promote_production,
    ("DELETE", "/api/v1/models/{name}/aliases/{alias}"): P.models_promote_production,
    ("GET", "/api/v1/models/{name}/gates"): P.models_read,
    ("PUT", "/api/v1/models/{name}/gates"): P.models_promote_production,
    ("GET", "/api/v1/projects/{project_id}/registry-settings"): P.projects_read,
    ("PUT", "/api/v1/projects/{project_id}/registry-settings"): P.projects_admin,
    # serving: deployments
    ("PUT", "/api/v1/deployments/{name}"): P.deployments_write,
    ("GET", "/api/v1/deployments"): P.deployments_read,
    ("GET", "/api/v1/deployments/{name}"): P.deployments_read,
    ("DELETE", "/api/v1/deployments/{name}"): P.deployments_write,
    # Decided per deployment, from the serving cache: a public one needs no key, any other
    # predictions:create in its project (tests/serving/test_deployments.py, TestAccess).
    ("POST", "/api/v1/deployments/{name}/predict"): PUBLIC,
    ("GET", "/api/v1/deployments/{name}/ready"): PUBLIC,
    # The Open Inference Protocol: the process's health and metadata are public; a model is a
    # deployment, decided as predict is (tests/serving/test_inference_routes.py, TestAccess).
    ("GET", "/v2"): PUBLIC,
    ("GET", "/v2/health/live"): PUBLIC,
    ("GET", "/v2/health/ready"): PUBLIC,
    ("GET", "/v2/models/{name}"): PUBLIC,
    ("GET", "/v2/models/{name}/versions/{version}"): PUBLIC,
    ("GET", "/v2/models/{name}/ready"): PUBLIC,
    ("GET", "/v2/models/{name}/versions/{version}/ready"): PUBLIC,
    ("POST", "/v2/models/{name}/infer"): PUBLIC,
    ("POST", "/v2/models/{name}/versions/{version}/infer"): PUBLIC,
}

# The web UI: anonymous visitors are sent to the login page instead of getting a 401.
UI_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/static/vendor/plotly.min.js"): PUBLIC,
    (MOUNT, "/static"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/register"): PUBLIC,
    ("POST", "/register"): PUBLIC,
    ("GET", "/confirm-email"): PUBLIC,
    ("GET", "/forgot-password"): PUBLIC,
    ("POST", "/forgot-password"): PUBLIC,
    ("GET", "/reset-password"): PUBLIC,
    ("POST", "/reset-password"): PUBLIC,
    ("GET", "/profile"): P.profile_write,
    ("POST", "/profile"): P.profile_write,
    ("POST", "/profile/password"): P.profile_write,
    ("GET", "/api-keys"): P.api_keys_write,
    ("POST", "/api-keys"): P.api_keys_write,
    ("POST", "/api-keys/{key_id}/revoke"): P.api_keys_write,
    ("GET", "/admin/users"): P.users_admin,
    ("GET", "/admin/users/{user_id}"): P.users_admin,
    ("POST", "/admin/users/{user_id}/role"): P.users_admin,
    ("POST", "/admin/users/{user_id}/active"): P.users_admin,
    ("POST", "/admin/users/{user_id}/password-reset"): P.users_admin,
    ("POST", "/admin/invites"): P.users_admin,
    ("GET", "/projects"): P.projects_read,
    ("POST", "/projects"): P.projects_admin,
    ("GET", "/projects/{project_id}"): P.projects_read,
    ("POST", "/projects/{project_id}/members"): P.projects_admin,
    ("POST", "/projects/{project_id}/members/{user_id}/remove"): P.projects_admin,
    ("GET", "/audit"): P.audit_read,
    ("GET", "/datasets"): P.datasets_read,
    ("GET", "/datasets/{name}"): P.datasets_read,
    ("GET", "/datasets/{name}/diff"): P.datasets_read,
    ("GET", "/datasets/{name}/quality.csv"): P.datasets_read,
    ("GET", "/datasets/{name}/versions/{number}"): P.datasets_read,
    ("GET", "/datasets/{name}/quarantine"): P.datasets_read,
    ("POST", "/datasets/{name}/quarantine/release"): P.quarantine_review,
    ("POST", "/datasets/{name}/quarantine/discard"): P.quarantine_review,
    ("GET", "/pipelines"): P.pipelines_read,
    ("GET", "/pipelines/{name}"): P.pipelines_read,
    ("GET", "/pipelines/{name}/runs/{run_id}"): P.pipelines_read,
    ("GET", "/pipelines/{name}/runs/{run_id}/live.json"): P.pipelines_read,
    ("GET", "/jobs"): P.jobs_read,
    ("GET", "/jobs/{job_id}"): P.jobs_read,
    ("POST", "/jobs/{job_id}/cancel"): P.jobs_write,
    ("POST", "/jobs/{job_id}/retry"): P.jobs_write,
    ("GET", "/notifications"): P.profile_read,
    ("POST", "/notifications/read-all"): P.profile_read,
    ("POST", "/notifications/{notification_id}/read"): P.profile_read,
    ("POST", "/profile/notifications"): P.profile_write,
    ("GET", "/experiments"): P.experiments_read,
    ("GET", "/experiments/{experiment_id}"): P.experiments_read,
    ("GET", "/runs/{run_id}"): P.runs_read,
    ("GET", "/compare"): P.runs_read,
    ("GET", "/lineage/{kind}/{node_id:path}"): P.lineage_read,
    ("GET", "/models"): P.models_read,
    ("GET", "/models/upload"): P.models_write,
    ("POST", "/models/upload"): P.models_write,
    ("GET", "/models/{name}"): P.models_read,
    ("GET", "/models/{name}/compare"): P.models_read,
    ("GET", "/models/{name}/drift-settings"): P.monitors_read,
    ("POST", "/models/{name}/drift-settings"): P.monitors_write,
    ("POST", "/models/{name}/drift-settings/delete"): P.monitors_write,
    ("GET", "/models/{name}/versions/{version}"): P.models_read,
    ("POST", "/models/{name}/versions/{version}/stage"): P.models_promote_staging,
    ("POST", "/models/{name}/versions/{version}/request-production"): P.models_promote_production,
    ("POST", "/models/{name}/aliases"): P.models_promote_production,
    ("POST", "/models/{name}/gates"): P.models_promote_production,
    ("POST", "/models/{name}/rollback"): P.models_promote_production,
    ("GET", "/approvals"): P.models_read,
    ("GET", "/approvals/{approval_id}"): P.models_read,
    ("POST", "/approvals/{approval_id}/{verdict}"): P.models_approve,
    ("GET", "/deployments"): P.deployments_read,
    ("GET", "/deployments/{name}"): P.deployments_read,
    ("GET", "/deployments/{name}/try"): P.deployments_read,
    ("POST", "/deployments/{name}/try"): P.predictions_create,
    ("POST", "/deployments/{name}/undeploy"): P.deployments_write,
    ("GET", "/monitoring"): P.monitors_read,
    ("GET", "/monitoring/overview.json"): P.monitors_read,
    ("GET", "/monitoring/charts/{chart}.csv"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/live.json"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/charts/{chart}.csv"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/drift.csv"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/drift-scores.csv"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/drift"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/drift/{report_id}"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/drift/{report_id}/histogram.csv"): P.monitors_read,
    ("GET", "/monitoring/deployments/{name}/drift/{report_id}/features.csv"): P.monitors_read,
    ("GET", "/alerts/rules"): P.alerts_read,
    ("POST", "/alerts/rules"): P.alerts_write,
    ("POST", "/alerts/rules/{rule_id}/enabled"): P.alerts_write,
    ("GET", "/alerts/incidents"): P.alerts_read,
    ("GET", "/alerts/incidents/{incident_id}"): P.alerts_read,
    ("POST", "/alerts/incidents/{incident_id}/ack"): P.alerts_write,
    ("GET", "/settings/notifications"): P.profile_read,
    ("POST", "/settings/notifications"): P.profile_write,
    ("POST", "/settings/notifications/channels"): P.alerts_write,
    ("POST", "/settings/notifications/channels/{channel_id}/enabled"): P.alerts_write,
}

RULES = {**API_RULES, **UI_RULES}
CALLERS = ["anonymous", *(role.value for role in Role)]
# API keys: name -> (role, global?). Keys are for the API; the UI takes only a login session.
KEY_CALLERS = {
    "project-admin-key": ("admin", False),
    "project-viewer-key": ("viewer", False),
    "global-admin-key": ("admin", True),
}
# Ids of nothing: a caller who is let in gets a 404, never someone else's data.
DUMMY_ID = "00000000-0000-7000-8000-000000000000"
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _route_contexts(app: FastAPI) -> Iterator[BaseRoute]:
    # FastAPI >= 0.165 keeps included routers lazily; iter_route_contexts flattens them.
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)  # type: ignore[misc]


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in _route_contexts(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            found.add((MOUNT, str(route.path)))  # type: ignore[attr-defined]
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, str(route.path)))  # type: ignore[attr-defined]
    return found


def openapi_operations(app: FastAPI) -> set[tuple[str, str]]:
    schema = app.openapi()
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item}


def _schema_path(path: str) -> str:
    return PARAMETER.sub(lambda match: "{" + match.group(1) + "}", path)


def concrete(path: str) -> str:
    if path == "/static":
        return "/static/kiln.css"
    return PARAMETER.sub(lambda match: "model.bin" if match.group(1) == "path" else DUMMY_ID, path)


@pytest.fixture
def matrix_app(build_app: BuildApp) -> FastAPI:
    # Every caller makes a hundred requests: keep the API rate limit out of the way.
    return build_app(auth={"rate_limit": "100000/minute", "login_rate_limit": "100000/minute"})


class TestTheTableCoversTheApp:
    def test_every_route_of_the_app_has_a_rule(self, matrix_app: FastAPI) -> None:
        missing = sorted(app_routes(matrix_app) - set(RULES))
        assert not missing, f"routes without an authorization rule (add them to the table): {missing}"

    def test_every_rule_names_a_route_the_app_has(self, matrix_app: FastAPI) -> None:
        stale = sorted(set(RULES) - app_routes(matrix_app))
        assert not stale, f"rules for routes the app no longer has (remove them): {stale}"

    def test_every_documented_operation_has_a_rule(self, matrix_app: FastAPI) -> None:
        documented = {(method, _schema_path(path)) for method, path in RULES}
        missing = sorted(openapi_operations(matrix_app) - documented)
        assert not missing, f"OpenAPI operations without an authorization rule: {missing}"

    def test_rules_name_permissions_not_strings(self) -> None:
        # A string that looks like a permission would never match the enum members the app checks.
        loose = sorted(str(rule) for rule in RULES.values() if rule != PUBLIC and not isinstance(rule, P))
        assert not loose, f"rules must name a Permission member (or PUBLIC): {loose}"


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    client: TestClient
    csrf_token: str

    def call(self, method: str, path: str) -> httpx.Response:
        url = concrete(path)
        if method == MOUNT:
            return self.client.get(url)
        if (method, path) in UI_RULES and method in WRITES:
            return self.client.request(method, url, data={"csrf_token": self.csrf_token})
        body = {} if method in WRITES and method != "DELETE" else None
        return self.client.request(method, url, json=body)


def make_caller(app: FastAPI, name: str) -> Caller:
    client = api(app, follow_redirects=False)
    if name in KEY_CALLERS:
        role, is_global = KEY_CALLERS[name]
        owner = api(app, open_session(app, make_member(app, Role.admin)).access_token)
        scope = {"scope": "global"} if is_global else {"project_id": default_project_id(app)}
        created = owner.post("/api/v1/me/api-keys", json={"name": name, "role": role} | scope)
        assert created.status_code == 201, created.text
        client.headers["Authorization"] = f"Bearer {created.json()['key']}"
        return Caller(name, client, "")
    if name == "anonymous":
        # Public forms carry the CSRF token of an anonymous visitor, as a browser would have it.
        return Caller(name, client, form_token(client, "/forgot-password"))
    account = make_member(app, Role(name))
    pair = open_session(app, account)
    client.headers["Authorization"] = f"Bearer {pair.access_token}"
    client.cookies.set("kiln_access", pair.access_token)
    client.cookies.set("kiln_refresh", pair.refresh_token)
    return Caller(name, client, form_token(client, "/profile"))


def _redirects_to_login(response: httpx.Response) -> bool:
    return response.status_code in (302, 303, 307) and response.headers.get("location", "").startswith(
        "/login"
    )


ANOTHER_KEY = frozenset({("DELETE", "/api/v1/me/api-keys/{key_id}")})


def key_may(caller: str, permission: P) -> bool:
    role, is_global = KEY_CALLERS[caller]
    if not allows(role, permission) or permission in ACCOUNT_PERMISSIONS:
        return False
    return is_global or permission not in GLOBAL_PERMISSIONS


def judge(caller: str, method: str, path: str, response: httpx.Response) -> str | None:
    """What is wrong with ``response``, or ``None`` when it is what the table says."""
    rule = RULES[(method, path)]
    status = response.status_code
    is_ui = (method, path) in UI_RULES
    if status >= 500:
        return f"server error {status}"
    if rule == PUBLIC:
        return f"public route answered {status}" if status in (401, 403) else None
    assert isinstance(rule, P), rule
    if caller in KEY_CALLERS:
        if (method, path) in ANOTHER_KEY and not KEY_CALLERS[caller][1]:
            # The dummy id is another key: a project's key may revoke only itself.
            return None if status == 403 else f"{caller} revoked another key: expected 403, got {status}"
        if key_may(caller, rule):
            return (
                f"{caller} may {rule}: expected to be let in, got {status}" if status in (401, 403) else None
            )
        return None if status == 403 else f"{caller} may not {rule}: expected 403, got {status}"
    if caller == "anonymous":
        if is_ui:
            return None if _redirects_to_login(response) else f"expected a redirect to /login, got {status}"
        if status != 401 or response.json()["error"]["code"] != "unauthenticated":
            return f"expected 401 unauthenticated, got {status}"
        return None
    if not allows(caller, rule):
        return None if status == 403 else f"{caller} lacks {rule}: expected 403, got {status}"
    if status in (401, 403) or _redirects_to_login(response):
        return f"{caller} has {rule}: expected to be let in, got {status}"
    return None


@pytest.mark.parametrize("caller_name", [*CALLERS, *KEY_CALLERS])
def test_each_caller_gets_exactly_what_the_table_allows(matrix_app: FastAPI, caller_name: str) -> None:
    caller = make_caller(matrix_app, caller_name)
    problems = []
    for method, path in sorted(RULES):
        # Public routes are checked once, anonymously: logged-in callers would only log themselves out.
        if RULES[(method, path)] == PUBLIC and caller_name != "anonymous":
            continue
        # The calling key revokes itself last, so that it stays valid for every other row.
        if caller_name in KEY_CALLERS and ((method, path) in UI_RULES or path.endswith("/current")):
            continue
        response = caller.call(method, path)
        problem = judge(caller_name, method, path, response)
        if problem:
            problems.append(f"{method} {path}: {problem} — {response.text[:160]!r}")
    assert not problems, f"{len(problems)} authorization mismatches for {caller_name}:\n" + "\n".join(
        problems
    )
