"""Pages: the model list, one model with its versions, one version with its metadata and files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.registry import reads, service
from kiln.ui.forms import notice
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
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


@router.get("/models/{name}", response_class=HTMLResponse)
def model_page(
    request: Request, actor: ModelsPage, name: str, project: str | None = None, cursor: str = ""
) -> HTMLResponse:
    params = PageParams(limit=PER_PAGE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        model = reads.model_read(session, service.get_model(session, actor, name, project=project))
        versions = reads.version_page(
            session, service.list_versions(session, actor, name, params, project=project)
        )
    next_href = url_with(f"/models/{name}", cursor=versions.next_cursor) if versions.next_cursor else None
    return render(
        request,
        "registry/model.html",
        {"section": "models", "model": model, "versions": versions.items, "next_href": next_href},
    )


@router.get("/models/{name}/versions/{version}", response_class=HTMLResponse)
def version_page(
    request: Request, actor: ModelsPage, name: str, version: str, project: str | None = None
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        read = reads.version_read(
            session, service.get_version(session, actor, name, version, project=project)
        )
    return render(
        request,
        "registry/version.html",
        {
            "section": "models",
            "version": read,
            "notice": notice(request),
            "can_write": actor.refusal(Permission.models_write) is None,
        },
    )
