"""The deployments list: what each serves, how it follows its version, health, and last hour's traffic.

Narrowed to the caller's projects by the service (a non-member sees none); health is this process's
model cache (``model_cache.readiness``), the request counts one GROUP BY over the prediction log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.ids import utcnow
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.serving import deployments, traffic
from kiln.serving.deployment_schemas import DeploymentFilter, DeploymentStatus
from kiln.serving.deps import get_model_cache
from kiln.serving.model_cache import readiness
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DeploymentsPage = Annotated[Actor, Depends(page_require(Permission.deployments_read))]
PER_PAGE = 100


@router.get("/deployments", response_class=HTMLResponse)
def deployment_list(
    request: Request, actor: DeploymentsPage, status: DeploymentStatus | None = None, cursor: str = ""
) -> HTMLResponse:
    params = PageParams(limit=PER_PAGE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        page = deployments.list_deployments(session, actor, DeploymentFilter(status=status), params)
        reads = deployments.describe(session, page.items)
        hour = traffic.requests_since(session, reads, utcnow() - timedelta(hours=1))
    cache = get_model_cache(request)
    rows = [(read, readiness(cache, read), hour[read.name]) for read in reads]
    next_href = (
        url_with("/deployments", status=status.value if status else None, cursor=page.next_cursor)
        if page.next_cursor
        else None
    )
    return render(
        request,
        "serving/deployments.html",
        {
            "section": "deployments",
            "rows": rows,
            "status": status.value if status else "",
            "next_href": next_href,
        },
    )
