"""Projects (teams) and membership; the project role decides what a member may do inside it.

A member's effective role in a project is the lower of their global role and their project role;
admins act everywhere; an API key acts only in its own project, at most at its own role (an
admin's global key acts everywhere, at its own role).
Non-members see nothing of a project: asking for its things answers 404, not 403.

Every project-owned thing is scoped here, by one pair (docs/architecture.md, "Project scoping"):
``scoped`` narrows a select to the caller's projects, ``require_in_project`` (and ``get_in_project``
for a table that carries ``project_id``) answers NotFound to non-members under the thing's own name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kiln.audit import service as audit
from kiln.auth.credential_changes import credentials_changed
from kiln.auth.models import Project, ProjectMember, User
from kiln.auth.permissions import Role, allows, granted, lower_role
from kiln.auth.schemas import MemberRead, MemberSet, ProjectCreate, ProjectRead, normalise_email
from kiln.core.actor import SYSTEM, Actor
from kiln.core.errors import Conflict, Invalid, NotFound, PermissionDenied
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.notify.service import Recipient

S = TypeVar("S")


class ProjectOwned(Protocol):
    """A row of a table that carries ``project_id`` itself."""

    project_id: Any


M = TypeVar("M", bound=ProjectOwned)

DEFAULT_PROJECT = "default"


DEFAULT_DESCRIPTION = "Everyone's starting project"


def ensure_default_project(session: Session) -> Project:
    """The ``default`` project, created (on the record, by the system) the first time it is needed."""
    project = session.scalar(select(Project).where(Project.name == DEFAULT_PROJECT))
    if project is None:
        project = Project(name=DEFAULT_PROJECT, description=DEFAULT_DESCRIPTION)
        session.add(project)
        session.flush()
        record_default_project_created(session, project.id)
    return project


def record_default_project_created(session: Session, project_id: str) -> None:
    audit.record(session, SYSTEM, "project.created", "project", project_id, {"name": DEFAULT_PROJECT})


def find_project_by_name(session: Session, name: str) -> Project | None:
    return session.scalar(select(Project).where(Project.name == name))


def project_role(session: Session, actor: Actor, project_id: str) -> str | None:
    def member_role() -> str | None:
        member = session.get(ProjectMember, (project_id, actor.user_id))
        return member.role if member else None

    return role_in_project(actor, project_id, member_role)


def role_in_project(actor: Actor, project_id: str, member_role: Callable[[], str | None]) -> str | None:
    """The rule of ``project_role``, given how to find the user's membership role there (asked only
    for a user who is not an administrator): the credential cache answers from memory."""
    if actor.project_scoped:
        return actor.role if actor.project_id == project_id else None
    if actor.is_admin or actor.kind == "system":
        return Role.admin.value
    if actor.kind == "api_key":
        return actor.role  # a global key (its owner is an admin, so a member everywhere)
    if actor.user_id is None:
        return None
    role = member_role()
    return lower_role(role, actor.role) if role else None


def needs_memberships(actor: Actor) -> bool:
    """Whether ``role_in_project`` will ask for the actor's membership roles."""
    return not actor.project_scoped and not actor.is_admin and actor.kind == "user"


def member_roles(session: Session, user_id: str) -> dict[str, str]:
    """The user's role in each project they belong to (project id -> role), in one query."""
    rows = session.execute(
        select(ProjectMember.project_id, ProjectMember.role).where(ProjectMember.user_id == user_id)
    )
    return dict(rows.all())


def require_in_project(
    session: Session, actor: Actor, project_id: str | None, permission: Permission, *, hide_as: str
) -> str:
    """The actor's role in the project that owns a thing, checked for ``permission``.

    ``hide_as`` names the thing (``"experiment 'x'"``): a non-member gets ``NotFound("<hide_as> not
    found")``, exactly what a missing thing answers (``project_id=None``), so ids from other teams
    reveal nothing. A member whose role is too low gets ``PermissionDenied``.
    """
    role = None if project_id is None else project_role(session, actor, project_id)
    return check_project_role(role, permission, hide_as=hide_as)


def check_project_role(role: str | None, permission: Permission, *, hide_as: str) -> str:
    """``require_in_project``'s answer for a role already found (``None``: not a member)."""
    if role is None:
        raise NotFound(f"{hide_as} not found")
    if not allows(role, permission):
        raise PermissionDenied(f"your role in this project ({role}) does not allow {permission}")
    return role


def get_in_project(
    session: Session, actor: Actor, entity: type[M], ident: str, permission: Permission, *, hide_as: str
) -> M:
    """Fetch a row of a table carrying ``project_id`` by primary key, and check ``permission`` there."""
    row = session.get(entity, ident)
    require_in_project(session, actor, None if row is None else row.project_id, permission, hide_as=hide_as)
    assert row is not None
    return row


def find_named_in_projects(
    session: Session,
    actor: Actor,
    entity: Any,
    name: str,
    permission: Permission,
    *,
    project: str | None,
    noun: str,
) -> Any:
    """The row of ``entity`` (a table with ``project_id`` and ``name``, unique per project) named
    ``name``: in ``project`` (id or name) when given or the caller is a project key, else in the one of
    the caller's projects that has it; checked for ``permission`` there. None when there is none the
    caller may see (a non-member is told it is not found, as for one that does not exist)."""
    if project is not None or actor.project_scoped:
        project_row = resolve_project(session, actor, project or actor.project_id, permission)
        found = session.scalar(select(entity).where(entity.project_id == project_row.id, entity.name == name))
        candidates = [found] if found is not None else []
    else:
        statement = scoped(session, actor, select(entity).where(entity.name == name), entity.project_id)
        candidates = list(session.scalars(statement))
    if len(candidates) > 1:
        raise Invalid(
            f"a {noun} named {name!r} exists in {len(candidates)} of your projects; "
            "say which with ?project=<name or id> (CLI: --project)",
            details={"name": name, "project_ids": sorted(row.project_id for row in candidates)},
        )
    if not candidates:
        return None
    row = candidates[0]
    require_in_project(session, actor, row.project_id, permission, hide_as=f"{noun} {name!r}")
    return row


def scoped(
    session: Session,
    actor: Actor,
    statement: Select[S],
    project_column: InstrumentedAttribute[str] | ColumnElement[str],
) -> Select[S]:
    """``statement`` narrowed to the projects the actor may read (unchanged for admins).

    Every list of project-owned things goes through here; a test calls each list route as a member
    of another project and expects nothing back (tests/auth/test_project_scoping.py).
    """
    project_ids = accessible_project_ids(session, actor)
    if project_ids is None:
        return statement
    return statement.where(project_column.in_(project_ids))


def require_project(session: Session, actor: Actor, project_id: str, permission: Permission) -> str:
    """The actor's role in the project, or NotFound (not a member) / PermissionDenied (role too low)."""
    return require_in_project(session, actor, project_id, permission, hide_as=f"project {project_id!r}")


def accessible_project_ids(session: Session, actor: Actor) -> list[str] | None:
    """Ids of the projects the actor may read; ``None`` means every project (admins)."""
    if actor.project_scoped:
        return [actor.project_id] if actor.project_id else []
    if actor.is_admin or actor.kind in ("system", "api_key"):
        return None
    if actor.user_id is None:
        return []
    return list(
        session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_id == actor.user_id))
    )


def visible_project_ids(session: Session, actor: Actor) -> frozenset[str] | None:
    """``kiln.core.deps.ProjectVisibility``: what ``app.py`` installs, so domains below auth (lineage)
    narrow their answers to the caller's projects with the same rule as ``scoped``."""
    project_ids = accessible_project_ids(session, actor)
    return None if project_ids is None else frozenset(project_ids)


def permissions_in_project(session: Session, actor: Actor, project_id: str) -> frozenset[Permission] | None:
    """``kiln.core.project_permissions.ProjectPermissions``, installed by ``app.py``: what the actor
    may do in the project (its effective role's grants, less what its credential may not use), or
    ``None`` for a non-member. The rule of ``require_in_project``, for domains below auth (jobs)."""
    role = project_role(session, actor, project_id)
    return None if role is None else actor.permissions & granted(role)


def get_project(session: Session, actor: Actor, project_id: str) -> Project:
    project = session.get(Project, project_id)
    if project is None or project_role(session, actor, project_id) is None:
        raise NotFound(f"project {project_id!r} not found")
    return project


def resolve_project(session: Session, actor: Actor, ref: str | None, permission: Permission) -> Project:
    """A project by id or name (default: the key's project, else 'default'), checked for ``permission``."""
    if ref is None and actor.project_id is None:
        project: Project | None = ensure_default_project(session)
        ref = DEFAULT_PROJECT
    else:
        ref = ref or actor.project_id or DEFAULT_PROJECT
        project = session.get(Project, ref) or find_project_by_name(session, ref)
    # The same answer, naming what the caller typed, for a project that does not exist and for one
    # they may not see: neither its existence nor its id may leak.
    if project is None or project_role(session, actor, project.id) is None:
        raise NotFound(f"project {ref!r} not found")
    require_project(session, actor, project.id, permission)
    return project


def project_reads(session: Session, actor: Actor, rows: list[Project]) -> list[ProjectRead]:
    """Projects as the actor sees them, each with ``my_role`` (API, UI and CLI show the same)."""
    reads = []
    for project in rows:
        role = project_role(session, actor, project.id)
        read = ProjectRead.model_validate(project)
        reads.append(read.model_copy(update={"my_role": Role(role) if role else None}))
    return reads


def project_read(session: Session, actor: Actor, project: Project) -> ProjectRead:
    return project_reads(session, actor, [project])[0]


def list_projects(session: Session, actor: Actor, page: PageParams | None = None) -> Page[ProjectRead]:
    """The projects the actor may see, by name; ``page=None`` gives all of them (forms' choices)."""
    query = scoped(session, actor, select(Project).order_by(Project.name, Project.id), Project.id)
    if page is None:
        return Page(items=project_reads(session, actor, list(session.scalars(query))))
    found = paginate(session, query, page, with_total=True)
    return found.with_items(project_reads(session, actor, found.items))


def create_project(session: Session, actor: Actor, data: ProjectCreate) -> Project:
    if find_project_by_name(session, data.name) is not None:
        raise Conflict(f"project {data.name!r} exists; choose another name")
    project = Project(name=data.name, description=data.description)
    session.add(project)
    session.flush()
    audit.record(session, actor, "project.created", "project", project.id, {"name": project.name})
    if actor.user_id:
        ensure_member(session, actor, project.id, actor.user_id, actor.role)
    return project


def member_read(member: ProjectMember, user: User) -> MemberRead:
    return MemberRead(user_id=user.id, email=user.email, name=user.name, role=Role(member.role))


def list_members(session: Session, actor: Actor, project_id: str) -> list[MemberRead]:
    """A project's members with their emails, by email."""
    get_project(session, actor, project_id)
    rows = session.execute(
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.email)
    )
    return [member_read(member, user) for member, user in rows]


def project_recipients(
    session: Session, project_id: str, *, permission: Permission | None = None
) -> list[Recipient]:
    """The project's active members to notify, by email; with ``permission``, only those whose role
    in the project (the lower of their global and project roles) grants it (the approvers).

    Members only: an administrator who is not a member of the project hears nothing of it.
    """
    rows = session.execute(
        select(User.id, User.email, User.name, User.role, ProjectMember.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id, User.is_active.is_(True))
        .order_by(User.email)
    )
    return [
        Recipient(user_id=user_id, email=email, name=name)
        for user_id, email, name, global_role, member_role in rows
        if permission is None or allows(lower_role(member_role, global_role), permission)
    ]


def set_member(session: Session, actor: Actor, project_id: str, data: MemberSet) -> MemberRead:
    get_project(session, actor, project_id)
    if data.user_id:
        user = session.get(User, data.user_id)
    elif data.email:
        user = session.scalar(select(User).where(User.email == normalise_email(data.email)))
    else:
        raise Invalid("give the member's user_id or email")
    if user is None:
        raise NotFound("user not found; invite them first")
    return member_read(ensure_member(session, actor, project_id, user.id, data.role.value), user)


def ensure_member(session: Session, actor: Actor, project_id: str, user_id: str, role: str) -> ProjectMember:
    """Make the user a member with ``role``, on the record; an identical membership is left alone.

    Every way a membership is made (an admin's form, a new project's creator, an accepted
    invitation, the first account, ``kiln admin bootstrap``) goes through here, so each one leaves
    a ``project.member_set`` record naming the project. The caller checks who may do it.
    """
    member = session.get(ProjectMember, (project_id, user_id))
    if member is not None and member.role == role:
        return member
    if member is None:
        member = ProjectMember(project_id=project_id, user_id=user_id, role=role, created_at=utcnow())
        session.add(member)
    else:
        member.role = role
    session.flush()
    credentials_changed(session)
    audit.record(
        session, actor, "project.member_set", "project", project_id, {"user_id": user_id, "role": role}
    )
    return member


def remove_member(session: Session, actor: Actor, project_id: str, user_id: str) -> None:
    get_project(session, actor, project_id)
    member = session.get(ProjectMember, (project_id, user_id))
    if member is None:
        raise NotFound(f"user {user_id!r} is not a member of this project")
    session.delete(member)
    session.flush()
    credentials_changed(session)
    audit.record(session, actor, "project.member_removed", "project", project_id, {"user_id": user_id})
