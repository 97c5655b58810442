"""Deployment routes: PUT (deploy), GET (list, one, with this process's readiness), DELETE (undeploy).

Two routers: ``read_router`` (the GETs, which a serving-only process also answers: ``kiln serve``)
and ``write_router`` (PUT, DELETE: the control plane only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query, Response

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.serving import deployments
from kiln.serving.deployment_schemas import (
    DeploymentFilter,
    DeploymentRead,
    DeploymentSpec,
)
from kiln.serving.deps import ModelCacheDep
from kiln.serving.model_cache import ModelCache, readiness

if TYPE_CHECKING:
    from kiln.serving.deployment_models import Deployment

read_router = APIRouter(
    prefix="/api/v1/deployments",
    tags=["deployments"],
    responses=error_responses(400, 401, 403, 404, 422, 429),
)
write_router = APIRouter(
    prefix="/api/v1/deployments",
    tags=["deployments"],
    responses=error_responses(400, 401, 403, 404, 409, 422, 429),
)

DeploymentsRead = Annotated[Actor, Depends(require(Permission.deployments_read))]
DeploymentsWrite = Annotated[Actor, Depends(require(Permission.deployments_write))]


def _read(session: SessionDep, cache: ModelCache, deployment: Deployment) -> DeploymentRead:
    read = deployments.describe(session, [deployment])[0]
    return read.model_copy(update={"readiness": readiness(cache, read)})


@write_router.put("/{name}", response_model=DeploymentRead)
def deploy(
    name: str,
    spec: DeploymentSpec,
    session: SessionDep,
    actor: DeploymentsWrite,
    cache: ModelCacheDep,
    response: Response,
) -> DeploymentRead:
    """Deploy a model version under ``name`` (created: 201), or move the deployment to another one."""
    deployment, created = deployments.deploy(session, actor, name, spec)
    response.status_code = 201 if created else 200
    return _read(session, cache, deployment)


@read_router.get("", response_model=Page[DeploymentRead])
def list_deployments(
    session: SessionDep,
    actor: DeploymentsRead,
    cache: ModelCacheDep,
    filters: Annotated[DeploymentFilter, Query()],
    page: PageQuery,
) -> Page[DeploymentRead]:
    found = deployments.list_deployments(session, actor, filters, page)
    reads = deployments.describe(session, found.items)
    return found.with_items([read.model_copy(update={"readiness": readiness(cache, read)}) for read in reads])


@read_router.get("/{name}", response_model=DeploymentRead)
def get_deployment(
    name: str, session: SessionDep, actor: DeploymentsRead, cache: ModelCacheDep
) -> DeploymentRead:
    return _read(session, cache, deployments.get_deployment(session, actor, name))


@write_router.delete("/{name}", response_model=DeploymentRead)
def undeploy(name: str, session: SessionDep, actor: DeploymentsWrite, cache: ModelCacheDep) -> DeploymentRead:
    """Stop answering for ``name`` (every serving process, within seconds); PUT starts it again."""
    return _read(session, cache, deployments.undeploy(session, actor, name))
