"""Pages: the model list, one model with its versions, one version with its metadata and files.

The model and version pages also carry the lifecycle (``lifecycle_view``); the lifecycle's forms
(``lifecycle_forms``) render them again with the service's refusal when one fails.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db, get_project_visibility
from kiln.core.errors import KilnError
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.registry import aliases, reads, service
from kiln.ui.forms import FormError, form_error, notice
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.registry import lifecycle_view
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ModelsPage = Annotated[Actor, Depends(page_require(Permission.models_read))]
PER_PAGE = 100


@router.get("/models", response_class=HTMLResponse)
def model_list(request: Request, actor: ModelsPage, cursor: str = "") -> HTMLResponse:
    params = PageParams(limit=PER_PAGE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        page = reads.model_page(session, service.list_models(session, actor, params))
    return render(
        request,
        "registry/models.html",
        {
            "section": "models",
            "models": page.items,
            "next_href": url_with("/models", cursor=page.next_cursor) if page.next_cursor else None,
            "can_register": actor.refusal(Permission.models_write) is None,
        },
    )


def render_model_page(
    request: Request,
    actor: Actor,
    name: str,
    *,
    project: str | None = None,
    cursor: str = "",
    at: str = "",
    error: FormError | None = None,
) -> HTMLResponse:
    """The model page; ``error`` (a refused lifecycle form) is shown in its lifecycle section."""
    params = PageParams(limit=PER_PAGE, cursor=cursor or None)
    answer = None
    with get_db(request).unit_of_work() as session:
        found = service.get_model(session, actor, name, project=project)
        model = reads.model_read(session, found)
        versions = reads.version_page(
            session, service.list_versions(session, actor, name, params, project=project)
        )
        state = lifecycle_view.model_lifecycle(session, actor, found)
        try:
            answer = lifecycle_view.production_answer(session, found, at)
        except KilnError as exc:
            error = error or form_error(exc)
    next_href = (
        url_with(f"/models/{name}", project=model.project_id, cursor=versions.next_cursor)
        if versions.next_cursor
        else None
    )
    return render(
        request,
        "registry/model.html",
        {
            "section": "models",
            "model": model,
            "versions": versions.items,
            "next_href": next_href,
            "lifecycle": state,
            "production_answer": answer,
            "at": at,
            "can_read_monitors": actor.may(Permission.monitors_read),
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/models/{name}", response_class=HTMLResponse)
def model_page(
    request: Request,
    actor: ModelsPage,
    name: str,
    project: str | None = None,
    cursor: str = "",
    at: Annotated[str, Query(max_length=64, description="production on this date (UTC)")] = "",
) -> HTMLResponse:
    return render_model_page(request, actor, name, project=project, cursor=cursor, at=at.strip())


def render_version_page(
    request: Request,
    actor: Actor,
    name: str,
    version: str,
    *,
    project: str | None = None,
    error: FormError | None = None,
    gate_error: bool = False,
) -> HTMLResponse:
    """The version page; ``error`` is shown in its lifecycle section (``gate_error``: a failed gate)."""
    with get_db(request).unit_of_work() as session:
        model, found = aliases.model_and_version(session, actor, name, version, project=project)
        read = reads.version_read(session, found)
        state = lifecycle_view.version_lifecycle(session, actor, model, found)
        visible = get_project_visibility(request)(session, actor)
        drawing = lifecycle_view.lineage_drawing(session, actor, found.id, visible)
    return render(
        request,
        "registry/version.html",
        {
            "section": "models",
            "version": read,
            "notice": notice(request),
            "can_write": actor.refusal(Permission.models_write) is None,
            "can_read_monitors": actor.may(Permission.monitors_read),
            "lifecycle": state,
            "lineage": drawing,
            "error": error.message if error else None,
            "gate_error": gate_error,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/models/{name}/versions/{version}", response_class=HTMLResponse)
def version_page(
    request: Request, actor: ModelsPage, name: str, version: str, project: str | None = None
) -> HTMLResponse:
    return render_version_page(request, actor, name, version, project=project)
