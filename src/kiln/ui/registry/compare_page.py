"""Page: versions of a model side by side (``/models/{name}/compare?versions=1&versions=2``), with
the comparison's CSV and HTML report one link away (the API serves both)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import ValidationFailed
from kiln.core.permissions import Permission
from kiln.registry import compare
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ModelsPage = Annotated[Actor, Depends(page_require(Permission.models_read))]


def version_refs(name: str, values: list[str]) -> list[str]:
    """``model:version`` for each ticked version: a bare ``3`` is a version of ``name``; ``versions=1,2``
    (a shared link) and ``versions=1&versions=2`` (the versions table's checkboxes) both work."""
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return [part if ":" in part else f"{name}:{part}" for part in parts]


@router.get("/models/{name}/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    name: str,
    actor: ModelsPage,
    versions: Annotated[list[str] | None, Query()] = None,
    project: str | None = None,
) -> HTMLResponse:
    refs = version_refs(name, versions or [])
    if len(refs) < compare.MIN_COMPARED:
        raise ValidationFailed(
            f"tick at least {compare.MIN_COMPARED} versions in the model's versions table to compare "
            f"them, or open /models/{name}/compare?versions=1&versions=2"
        )
    with get_db(request).unit_of_work() as session:
        comparison = compare.compare_versions(
            session, actor, [compare.parse_ref(ref) for ref in refs], project=project
        )
    query = [("versions", ref) for ref in refs] + ([("project", project)] if project else [])
    return render(
        request,
        "registry/compare.html",
        {
            "section": "models",
            "name": name,
            "project": project,
            "comparison": comparison,
            "csv_href": "/api/v1/models/compare?" + urlencode([*query, ("format", "csv")]),
            "html_href": "/api/v1/models/compare?" + urlencode([*query, ("format", "html")]),
        },
    )
