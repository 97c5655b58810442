"""Administration: users, invitations, and projects with their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kiln.audit import service as audit
from kiln.audit.schemas import AuditRecordRead
from kiln.auth import password_changes, projects, service
from kiln.auth.deps import AuthConfigDep
from kiln.auth.schemas import (
    InviteCreate,
    InviteRead,
    MemberRead,
    MemberSet,
    ProjectCreate,
    ProjectRead,
    UserAdminUpdate,
    UserCreate,
    UserRead,
)
from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.notify.deps import MailerDep

router = APIRouter(
    prefix="/api/v1",
    tags=["administration"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429),
)

UsersAdmin = Annotated[Actor, Depends(require(Permission.users_admin))]
ProjectsRead = Annotated[Actor, Depends(require(Permission.projects_read))]
ProjectsCreate = Annotated[Actor, Depends(require(Permission.projects_create))]
ProjectsAdmin = Annotated[Actor, Depends(require(Permission.projects_admin))]


@router.get("/users", response_model=Page[UserRead])
def list_users(actor: UsersAdmin, session: SessionDep, page: PageQuery) -> Page[UserRead]:
    found = service.list_users(session, page)
    return found.with_items([UserRead.model_validate(user) for user in found.items])


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserRead)
def create_user(data: UserCreate, actor: UsersAdmin, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.create_user(session, actor, data))


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: str, actor: UsersAdmin, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.get_user(session, user_id))


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: str, data: UserAdminUpdate, actor: UsersAdmin, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.admin_update_user(session, actor, user_id, data))


@router.post("/users/{user_id}/password-reset", status_code=status.HTTP_202_ACCEPTED)
def reset_user_password(
    user_id: str, actor: UsersAdmin, session: SessionDep, config: AuthConfigDep, mailer: MailerDep
) -> dict[str, str]:
    password_changes.admin_reset_password(session, actor, user_id, config=config, mailer=mailer)
    return {"status": "reset_mail_sent"}


@router.get("/users/{user_id}/activity", response_model=Page[AuditRecordRead])
def user_activity(
    user_id: str, actor: UsersAdmin, session: SessionDep, page: PageQuery
) -> Page[AuditRecordRead]:
    """What the user did (also with their API keys) and what was done to their account, newest first."""
    service.get_user(session, user_id)
    found = audit.user_activity(session, user_id, page)
    return found.with_items([AuditRecordRead.model_validate(record) for record in found.items])


@router.post("/invites", status_code=status.HTTP_201_CREATED, response_model=InviteRead)
def invite(
    data: InviteCreate, actor: UsersAdmin, session: SessionDep, config: AuthConfigDep, mailer: MailerDep
) -> InviteRead:
    token = service.invite(
        session,
        actor,
        str(data.email),
        data.role.value,
        data.project_id,
        config=config,
        mailer=mailer,
    )
    return InviteRead.model_validate(token)


@router.get("/projects", response_model=Page[ProjectRead])
def list_projects(actor: ProjectsRead, session: SessionDep, page: PageQuery) -> Page[ProjectRead]:
    """The projects the caller may see, each with ``my_role``."""
    return projects.list_projects(session, actor, page)


@router.post("/projects", status_code=status.HTTP_201_CREATED, response_model=ProjectRead)
def create_project(data: ProjectCreate, actor: ProjectsCreate, session: SessionDep) -> ProjectRead:
    return projects.project_read(session, actor, projects.create_project(session, actor, data))


@router.get("/projects/{project_id}/members", response_model=list[MemberRead])
def list_members(project_id: str, actor: ProjectsRead, session: SessionDep) -> list[MemberRead]:
    return projects.list_members(session, actor, project_id)


@router.put("/projects/{project_id}/members", response_model=MemberRead)
def set_member(project_id: str, data: MemberSet, actor: ProjectsAdmin, session: SessionDep) -> MemberRead:
    return projects.set_member(session, actor, project_id, data)


@router.delete("/projects/{project_id}/members/{user_id}")
def remove_member(project_id: str, user_id: str, actor: ProjectsAdmin, session: SessionDep) -> dict[str, str]:
    projects.remove_member(session, actor, project_id, user_id)
    return {"status": "removed"}
