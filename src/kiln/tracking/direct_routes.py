"""The three routes a training script calls for every run, answered from Kiln's ASGI layer.

Creating a run, logging a batch and finishing the run (``POST /runs``, ``POST /runs/{id}/batch``,
``PATCH /runs/{id}``) do a few hundred microseconds of work each; Starlette's middleware stack, the
included routers and FastAPI's dependency solving cost about as much again (profiled with py-spy on
bench/run_cost.py). So ``RequestContextMiddleware`` answers them through these endpoints
(``kiln.core.direct_routes``), which do what the FastAPI routes in ``tracking/router.py`` do (the
same services, the same permission, one unit of work, the same answer) in one thread hand-off.

The FastAPI routes stay: they document the API (OpenAPI), and a body that does not validate is
handed to them unchanged (``Fallback``), so every refusal keeps the 422 FastAPI gives it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from kiln.core.actor import Actor
from kiln.core.deps import core_state
from kiln.core.direct_routes import DirectRoute, Fallback
from kiln.core.errors import PermissionDenied
from kiln.core.permissions import Permission
from kiln.core.responses import model_response
from kiln.storage.deps import get_store
from kiln.tracking import batches, reads, service
from kiln.tracking.schemas import LogBatch, RunCreate, RunUpdate

Model = TypeVar("Model", bound=BaseModel)
PREFIX = "/api/v1"


async def _body(request: Request, model: type[Model]) -> Model:
    """The body validated from its bytes; anything else goes to the FastAPI route (its 422)."""
    body = await request.body()
    if b"json" not in request.headers.get("content-type", "").encode("latin-1").lower():
        raise Fallback(body)
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise Fallback(body) from None


async def _answer(
    request: Request, permission: Permission, work: Callable[[Session, Actor], Response]
) -> Response:
    """``work`` in one unit of work on a worker thread, for the caller if they hold ``permission``.

    The caller is known from memory when the credential cache has them (as ``current_actor`` does);
    else they are looked up on the same thread, in the same session.
    """
    state = core_state(request)
    known = state.authenticator.from_memory(request)

    def run() -> Response:
        with state.db.unit_of_work() as session:
            actor = known if known is not None else state.authenticator(request, session)
            request.state.actor = actor
            reason = actor.refusal(permission)
            if reason is not None:
                raise PermissionDenied(reason)
            return work(session, actor)

    return await anyio.to_thread.run_sync(run)


async def create_run(request: Request) -> Response:
    data = await _body(request, RunCreate)
    root_url = get_store(request).root_url

    def work(session: Session, actor: Actor) -> Response:
        run = service.create_run(session, actor, data, artifact_root_url=root_url)
        return model_response(run, 201)

    return await _answer(request, Permission.runs_write, work)


async def log_batch(request: Request, run_id: str) -> Response:
    batch = await _body(request, LogBatch)

    def work(session: Session, actor: Actor) -> Response:
        return model_response(batches.log_batch(session, actor, run_id, batch))

    return await _answer(request, Permission.runs_write, work)


async def update_run(request: Request, run_id: str) -> Response:
    data = await _body(request, RunUpdate)

    def work(session: Session, actor: Actor) -> Response:
        service.update_run(session, actor, run_id, data)
        return model_response(reads.run_read_by_id(session, run_id))

    return await _answer(request, Permission.runs_write, work)


DIRECT_ROUTES = [
    DirectRoute("POST", f"{PREFIX}/runs", create_run),
    DirectRoute("POST", f"{PREFIX}/runs/{{run_id}}/batch", log_batch),
    DirectRoute("PATCH", f"{PREFIX}/runs/{{run_id}}", update_run),
]
