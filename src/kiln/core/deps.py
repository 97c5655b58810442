"""FastAPI dependencies every domain's routes share: the unit of work, settings, and who is calling.

Every shared resource lives on one typed app state (``kiln.app.KilnState``, at ``app.state.kiln``).
Each domain's ``deps.py`` declares, as a ``Protocol``, the part of it that domain reads, and one
``XDep`` alias per resource; ``app.py`` checks statically that ``KilnState`` provides every part.

Authentication is auth's business, but the check on every route is core's: ``app.py`` installs auth's
``Authenticator`` on the state, and ``require`` reads the permissions auth resolved into the ``Actor``.
So a domain below auth (audit, notify, jobs) can protect its routes importing nothing but core.
Likewise ``ProjectVisibility``: auth knows memberships, and a domain below it (lineage) narrows
what it answers to the caller's projects through ``VisibleProjects`` without importing auth; and
``ProjectPermissions`` / ``AuditTrail`` (``core/project_permissions.py``, ``core/audit_trail.py``)
let a domain below auth and audit (jobs) check a project role and audit a person's change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Protocol, cast

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.audit_trail import AuditTrail
from kiln.core.db import Database
from kiln.core.errors import PermissionDenied
from kiln.core.permissions import Permission
from kiln.core.project_permissions import ProjectPermissions
from kiln.core.settings import Settings


class Authenticator(Protocol):
    """Who is calling: the actor behind the request's credential, with its permissions resolved.

    Raises ``kiln.core.errors.Unauthenticated`` (no or a bad credential) or ``RateLimited``.
    """

    def __call__(self, request: Request, session: Session, /) -> Actor:
        """The caller, reading the database if need be (called on a worker thread)."""
        ...

    def from_memory(self, request: Request, /) -> Actor | None:
        """The caller when it is known without I/O (called on the event loop); ``None``: ask ``__call__``."""
        ...


class ProjectVisibility(Protocol):
    """The ids of the projects the actor may read; ``None`` means every project (administrators)."""

    def __call__(self, session: Session, actor: Actor, /) -> frozenset[str] | None: ...


class CoreState(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def authenticator(self) -> Authenticator: ...
    @property
    def project_visibility(self) -> ProjectVisibility: ...
    @property
    def project_permissions(self) -> ProjectPermissions: ...
    @property
    def audit_trail(self) -> AuditTrail: ...


def core_state(request: Request) -> CoreState:
    return cast(CoreState, request.app.state.kiln)


def get_db(request: Request) -> Database:
    return core_state(request).db


def get_app_settings(request: Request) -> Settings:
    return core_state(request).settings


def get_project_visibility(request: Request) -> ProjectVisibility:
    """For pages, which open their own unit of work: ``get_project_visibility(request)(session, actor)``."""
    return core_state(request).project_visibility


def get_project_permissions(request: Request) -> ProjectPermissions:
    return core_state(request).project_permissions


def get_audit_trail(request: Request) -> AuditTrail:
    return core_state(request).audit_trail


# Dependencies that only read the app state are ``async``: FastAPI runs a sync dependency on the
# thread pool, and a hand-off per trivial lookup costs more than the lookup (pages call the plain
# accessors above directly).
async def _db(request: Request) -> Database:
    return core_state(request).db


async def _settings(request: Request) -> Settings:
    return core_state(request).settings


async def get_session(db: Annotated[Database, Depends(_db)]) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises.

    Opening the session touches no database (it connects on first use), so it is done here on the
    event loop; only the end (commit or rollback, then close) goes to a worker thread. A sync
    generator would cost a thread hand-off for each half. The end is shielded from cancellation (a
    client that goes away), so the connection always returns to the pool, and it runs outside the
    thread pool's limit, so it never waits behind requests that wait for a connection.
    """
    unit = db.unit_of_work()
    session = unit.__enter__()
    try:
        yield session
    except BaseException as exc:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                unit.__exit__, type(exc), exc, exc.__traceback__, limiter=CapacityLimiter(1)
            )
        raise
    if not session.in_transaction():
        # The route committed on its own worker thread (``commit_in_route``): ending the unit of work
        # touches no database now, so it is done here, without a second thread hand-off.
        unit.__exit__(None, None, None)
        return
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(unit.__exit__, None, None, None, limiter=CapacityLimiter(1))


def commit_in_route(session: Session) -> None:
    """Commit the request's transaction now, at the end of a sync route, on the thread it runs on.

    For the hot routes a training script calls (create, log, finish, read a run): the commit would
    otherwise cost a thread hand-off of its own once the route returns. Nothing changes but where the
    commit runs: an error it raises is the route's error (rolled back, answered as before), and
    callbacks queued with ``after_commit`` run as they would.
    """
    session.commit()


async def _project_permissions(request: Request) -> ProjectPermissions:
    return core_state(request).project_permissions


async def _audit_trail(request: Request) -> AuditTrail:
    return core_state(request).audit_trail


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# For domains below auth and audit (jobs): the caller's permissions in a project, and the audit trail.
ProjectPermissionsDep = Annotated[ProjectPermissions, Depends(_project_permissions)]
AuditTrailDep = Annotated[AuditTrail, Depends(_audit_trail)]
SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_db)]


async def current_actor(request: Request, session: SessionDep) -> Actor:
    """The caller: from memory on the event loop when the authenticator knows the credential, so
    that a request spends no thread hand-off on it; else read in a worker thread."""
    authenticator = core_state(request).authenticator
    actor = authenticator.from_memory(request)
    if actor is None:
        actor = await anyio.to_thread.run_sync(authenticator, request, session)
    # Pages and logs that run later in the request know who it was without authenticating again.
    request.state.actor = actor
    return actor


AuthenticatedActor = Annotated[Actor, Depends(current_actor)]


def visible_projects(
    request: Request, session: SessionDep, actor: AuthenticatedActor
) -> frozenset[str] | None:
    return core_state(request).project_visibility(session, actor)


# The caller's readable project ids (``None``: all of them). Declare it beside the route's
# ``require(...)`` alias; the actor is authenticated once per request, whichever comes first.
VisibleProjects = Annotated[frozenset[str] | None, Depends(visible_projects)]


def require(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """The dependency every protected route declares, as an alias at the top of its router:
    ``RunsWrite = Annotated[Actor, Depends(require(Permission.runs_write))]``.

    The permissions were resolved by auth (the role's grants, less what a key may not use), so the
    role and the reach of a key are both checked here and no route can forget the second.
    """
    if not isinstance(permission, Permission):
        # A plain string would be a silent 403 forever; refuse it when the router is imported.
        raise TypeError(f"require() takes a kiln.core.permissions.Permission, not {permission!r}")

    async def dependency(actor: AuthenticatedActor) -> Actor:  # pure check: no thread hand-off
        reason = actor.refusal(permission)
        if reason is not None:
            raise PermissionDenied(reason)
        return actor

    dependency.__name__ = f"require_{permission.name}"
    return dependency
