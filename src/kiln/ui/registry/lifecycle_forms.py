"""The lifecycle's forms on the model and version pages: stages, production requests, aliases,
rollback and gates.

Each posts, calls the registry's service in one unit of work and redirects back with a notice; a
refusal (a failed gate, a transition the state machine forbids, a missing reason) renders the
same page again with the service's message and its status code, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError, ValidationFailed
from kiln.core.permissions import Permission
from kiln.notify.deps import get_mailer
from kiln.registry import aliases, approvals, gates, lifecycle, rollback, service
from kiln.registry.deps import get_registry_settings
from kiln.registry.lifecycle_schemas import ApprovalRequestCreate, RollbackRequest
from kiln.registry.schemas import Stage
from kiln.storage.deps import get_store
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, redirect_with_notice
from kiln.ui.page_access import form_require
from kiln.ui.page_route import PageRoute
from kiln.ui.registry.lifecycle_view import GATE_ROWS
from kiln.ui.registry.model_pages import render_model_page, render_version_page
from kiln.ui.templating import url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

StageForm = Annotated[Actor, Depends(form_require(Permission.models_promote_staging))]
ProductionForm = Annotated[Actor, Depends(form_require(Permission.models_promote_production))]
# The stages a version page's buttons ask for; production goes through a request, failed through a rollback.
FORM_STAGES = {Stage.staging, Stage.development, Stage.archived}
NOTICE_FOR = {Stage.staging: "staged", Stage.development: "back_to_development", Stage.archived: "archived"}


def _version_href(name: str, number: int, project_id: str) -> str:
    return url_with(f"/models/{name}/versions/{number}", project=project_id)


def _model_href(name: str, project_id: str) -> str:
    return url_with(f"/models/{name}", project=project_id)


def _back(href: str, code: str, section: str) -> Response:
    """Redirect with the notice, scrolled to the lifecycle section (the fragment goes last)."""
    response = redirect_with_notice(href, code)
    response.headers["location"] += f"#{section}"
    return response


def _refused(exc: KilnError | ValidationError) -> FormError:
    return form_error(exc)


@router.post("/models/{name}/versions/{version}/stage")
def change_stage(
    request: Request, actor: StageForm, form: FormDep, name: str, version: str, project: str | None = None
) -> Response:
    """Promote to staging (runs the gates), back to development, or archive."""
    try:
        to_stage = Stage(field(form, "stage", limit=32))
        if to_stage not in FORM_STAGES:
            raise ValidationFailed("choose staging, development or archived")
    except ValueError:
        error = ValidationFailed("choose staging, development or archived")
        return render_version_page(request, actor, name, version, project=project, error=_refused(error))
    reason = field(form, "reason", limit=2000)
    try:
        with get_db(request).unit_of_work() as session:
            model, found = aliases.model_and_version(session, actor, name, version, project=project)
            outcome = lifecycle.change_stage(
                session,
                actor,
                model,
                found,
                to_stage,
                reason=reason,
                store=get_store(request),
                mailer=get_mailer(request),
                trust_pickle=get_registry_settings(request).trust_pickle,
            )
            href = _version_href(model.name, found.number, model.project_id)
    except KilnError as exc:
        return render_version_page(request, actor, name, version, project=project, error=_refused(exc))
    if outcome.blocked is not None:
        # The failed gates' results are committed with the unit of work above; show which and why.
        return render_version_page(
            request, actor, name, version, project=project, error=_refused(outcome.blocked), gate_error=True
        )
    return _back(href, NOTICE_FOR[to_stage], "version-lifecycle")


@router.post("/models/{name}/versions/{version}/request-production")
def request_production(
    request: Request,
    actor: ProductionForm,
    form: FormDep,
    name: str,
    version: str,
    project: str | None = None,
) -> Response:
    assessment = field(form, "risk_assessment", limit=20_000)
    try:
        if not assessment:
            raise ValidationFailed("write the risk assessment: what could go wrong, and how it was checked")
        data = ApprovalRequestCreate.model_validate(
            {"risk_level": field(form, "risk_level", limit=32), "risk_assessment": assessment}
        )
        with get_db(request).unit_of_work() as session:
            model, found = aliases.model_and_version(session, actor, name, version, project=project)
            approvals.request_production(session, actor, model, found, data, mailer=get_mailer(request))
            href = _version_href(model.name, found.number, model.project_id)
    except (KilnError, ValidationError) as exc:
        return render_version_page(request, actor, name, version, project=project, error=_refused(exc))
    return _back(href, "production_requested", "version-lifecycle")


@router.post("/models/{name}/aliases")
def set_alias(
    request: Request, actor: ProductionForm, form: FormDep, name: str, project: str | None = None
) -> Response:
    """Create or move an alias (from a version page: the form names the version)."""
    alias = field(form, "alias", limit=64)
    number = field(form, "version", limit=128)
    try:
        if not alias:
            raise ValidationFailed("name the alias (e.g. champion)")
        with get_db(request).unit_of_work() as session:
            model = service.get_model(session, actor, name, project=project)
            moved = aliases.set_alias(session, actor, model, alias, number)
            href = _version_href(model.name, moved.version_number, model.project_id)
    except KilnError as exc:
        return render_version_page(
            request, actor, name, number or "latest", project=project, error=_refused(exc)
        )
    return _back(href, "alias_set", "version-lifecycle")


@router.post("/models/{name}/rollback")
def roll_back(
    request: Request, actor: ProductionForm, form: FormDep, name: str, project: str | None = None
) -> Response:
    try:
        data = RollbackRequest(reason=field(form, "reason", limit=2000))
        with get_db(request).unit_of_work() as session:
            model = service.get_model(session, actor, name, project=project)
            rollback.rollback(session, actor, model, reason=data.reason, mailer=get_mailer(request))
            href = _model_href(model.name, model.project_id)
    except ValidationError:
        error = FormError("give the reason for the rollback: it goes on the record", 422)
        return render_model_page(request, actor, name, project=project, error=error)
    except KilnError as exc:
        return render_model_page(request, actor, name, project=project, error=_refused(exc))
    return _back(href, "rolled_back", "model-lifecycle")


def gates_document(form: FormData) -> dict[str, Any]:
    """The gates form as the API's document: metric rows with a name, and the production comparison."""
    metrics = []
    for index in range(GATE_ROWS):
        metric = field(form, f"gate-{index}-metric", limit=250)
        if not metric:
            continue
        value = field(form, f"gate-{index}-value", limit=64)
        metrics.append({"metric": metric, "op": field(form, f"gate-{index}-op", limit=2), "value": value})
    document: dict[str, Any] = {"metrics": metrics}
    compared = field(form, "production-metric", limit=250)
    if compared:
        document["no_worse_than_production"] = {
            "metric": compared,
            "tolerance": field(form, "production-tolerance", limit=64) or "0",
            "higher_is_better": field(form, "production-lower-is-better", limit=2) != "on",
        }
    return document


@router.post("/models/{name}/gates")
def set_gates(
    request: Request, actor: ProductionForm, form: FormDep, name: str, project: str | None = None
) -> Response:
    try:
        config = gates.parse_gates(gates_document(form))
        with get_db(request).unit_of_work() as session:
            model = service.get_model(session, actor, name, project=project)
            gates.set_gates(session, actor, model, config)
            href = _model_href(model.name, model.project_id)
    except KilnError as exc:
        return render_model_page(request, actor, name, project=project, error=_refused(exc))
    return _back(href, "gates_saved", "model-lifecycle")
