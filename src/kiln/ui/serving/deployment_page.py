"""One deployment: its version and health, traffic charts, recent predictions, the try-it form, undeploy.

The traffic is aggregated by ``kiln.serving.traffic`` and the recent predictions are the prediction
log's API list; health is what this process's model cache says (``model_cache.readiness``, as in
the API). The try-it form (``try_page``) and the undeploy form render this page again with their outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.ids import utcnow
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.registry import reads
from kiln.registry import service as registry
from kiln.serving import deployments, predictions, traffic
from kiln.serving.deps import get_model_cache
from kiln.serving.model_cache import readiness
from kiln.serving.schemas import PredictionFilter
from kiln.ui.csrf import FormDep
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.serving import traffic_view
from kiln.ui.serving.try_form import TryField, form_fields
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DeploymentsPage = Annotated[Actor, Depends(page_require(Permission.deployments_read))]
UndeployForm = Annotated[Actor, Depends(form_require(Permission.deployments_write))]
RECENT = 20
# The "now" of the request rate in the page head.
RATE_SECONDS = 300


@dataclass(slots=True)
class Tried:
    """The try-it form's outcome: the values as submitted, and the answer or the refusal."""

    values: dict[str, str] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    error: str | None = None
    messages: dict[str, list[str]] = field(default_factory=dict)


def deployment_href(name: str) -> str:
    return f"/deployments/{quote(name, safe='')}"


def render_deployment_page(
    request: Request,
    actor: Actor,
    name: str,
    *,
    window: str = "",
    tried: Tried | None = None,
    error: FormError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    chosen = traffic_view.traffic_window(window)
    now = utcnow()
    with get_db(request).unit_of_work() as session:
        [read] = deployments.describe(session, [deployments.get_deployment(session, actor, name)])
        found = registry.get_version(
            session, actor, read.model.name, str(read.model.version), project=read.project_id
        )
        version = reads.version_read(session, found)
        seen = traffic.deployment_traffic(
            session, actor, name, window_seconds=chosen.seconds, bucket_seconds=chosen.bucket_seconds, now=now
        )
        recent = predictions.list_predictions(
            session, actor, PredictionFilter(deployment=name), PageParams(limit=RECENT)
        ).items
        lately = traffic.requests_since(session, [read], now - timedelta(seconds=RATE_SECONDS))[name]
    tried = tried or Tried()
    fields: list[TryField] = form_fields(
        version.signature,
        submitted=tried.values or None,
        example=version.example_input,
        messages=tried.messages,
    )
    return render(
        request,
        "serving/deployment.html",
        {
            "section": "deployments",
            "deployment": read,
            "href": deployment_href(name),
            "version": version,
            "health": readiness(get_model_cache(request), read),
            "traffic": seen,
            "window": chosen,
            "windows": traffic_view.WINDOWS,
            "charts": traffic_view.traffic_charts(seen) if seen.requests else [],
            "rate_per_minute": lately * 60 / RATE_SECONDS,
            "recent": recent,
            "fields": fields,
            "tried": tried,
            "can_try": actor.may(Permission.predictions_create),
            "can_undeploy": actor.may(Permission.deployments_write) and read.status.value == "active",
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else status_code,
    )


@router.get("/deployments/{name}", response_class=HTMLResponse)
def deployment_page(request: Request, actor: DeploymentsPage, name: str, window: str = "") -> HTMLResponse:
    return render_deployment_page(request, actor, name, window=window)


@router.post("/deployments/{name}/undeploy")
def undeploy(request: Request, actor: UndeployForm, form: FormDep, name: str) -> Response:
    """Stop the deployment (the API's DELETE): every serving process stops answering within seconds."""
    try:
        with get_db(request).unit_of_work() as session:
            deployments.undeploy(session, actor, name)
    except KilnError as exc:
        return render_deployment_page(request, actor, name, error=form_error(exc))
    return redirect_with_notice(deployment_href(name), "undeployed")
