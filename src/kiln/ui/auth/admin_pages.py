"""Administration pages: users (role, deactivation, password reset, activity) and invitations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from kiln.audit import service as audit
from kiln.audit.schemas import AuditRecordRead
from kiln.auth import api_keys, password_changes, projects, service
from kiln.auth.permissions import Role
from kiln.auth.schemas import ApiKeyRead, InviteCreate, ProjectRead, UserAdminUpdate, UserRead
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.notify.deps import get_mailer
from kiln.ui.auth.account_pages import key_rows
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.session import auth_config
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

UsersAdminPage = Annotated[Actor, Depends(page_require(Permission.users_admin))]
UsersAdminForm = Annotated[Actor, Depends(form_require(Permission.users_admin))]
USERS_PAGE = "/admin/users"
ACTIVITY_LIMIT = 100
USERS_PER_PAGE = 100

_db = get_db


def _back(form_value: str) -> str:
    """Actions return to the list or to the user's page they were made from, nowhere else."""
    if form_value.startswith(USERS_PAGE + "/") and "//" not in form_value and "\\" not in form_value:
        return form_value
    return USERS_PAGE


def _all_projects(request: Request, actor: Actor) -> list[ProjectRead]:
    with _db(request).unit_of_work() as session:
        return projects.list_projects(session, actor).items


def _users_page(
    request: Request,
    actor: Actor,
    *,
    error: FormError | None = None,
    invite_error: FormError | None = None,
    invite_draft: dict[str, str] | None = None,
) -> Response:
    params = PageParams(limit=USERS_PER_PAGE, cursor=request.query_params.get("cursor") or None)
    with _db(request).unit_of_work() as session:
        page = service.list_users(session, params)
        users = [UserRead.model_validate(user) for user in page.items]
    failed = error or invite_error
    context: dict[str, Any] = {
        "section": "admin",
        "users": users,
        "total": page.total,
        "next_href": url_with(USERS_PAGE, cursor=page.next_cursor) if page.next_cursor else None,
        "paged": params.cursor is not None,
        "roles": [role.value for role in Role],
        "projects": _all_projects(request, actor),
        "notice": notice(request),
        "error": error.message if error else None,
        "invite_error": invite_error.message if invite_error else None,
        "invite": invite_draft or {"role": Role.viewer.value},
    }
    return render(
        request, "auth/admin_users.html", context, status_code=failed.status_code if failed else 200
    )


@router.get(USERS_PAGE)
def users(request: Request, actor: UsersAdminPage) -> Response:
    return _users_page(request, actor)


@router.get(USERS_PAGE + "/{user_id}")
def user_activity(request: Request, user_id: str, actor: UsersAdminPage) -> Response:
    with _db(request).unit_of_work() as session:
        user = UserRead.model_validate(service.get_user(session, user_id))
        activity = audit.user_activity(session, user_id, PageParams(limit=ACTIVITY_LIMIT))
        records = [AuditRecordRead.model_validate(record) for record in activity.items]
        keys = [ApiKeyRead.model_validate(key) for key in api_keys.list_keys_of(session, user_id).items]
    # One activity, shown in two tables: what the user did (also with their keys), and what others
    # (or the system) did to the account.
    actions = [record for record in records if record.user_id == user_id]
    changes = [record for record in records if record.user_id != user_id]
    names = {project.id: project.name for project in _all_projects(request, actor)}
    return render(
        request,
        "auth/admin_user.html",
        {
            "section": "admin",
            "user": user,
            "actions": actions,
            "changes": changes,
            "keys": key_rows(keys, names),
            "limit": ACTIVITY_LIMIT,
            "more_activity": activity.next_cursor is not None,
            "roles": [role.value for role in Role],
            "notice": notice(request),
            "is_self": user.id == actor.user_id,
        },
    )


def _update(request: Request, actor: Actor, user_id: str, data: UserAdminUpdate, back: str) -> Response:
    try:
        with _db(request).unit_of_work() as session:
            service.admin_update_user(session, actor, user_id, data)
    except KilnError as exc:
        return _users_page(request, actor, error=form_error(exc))
    return redirect_with_notice(back, "user_updated")


@router.post(USERS_PAGE + "/{user_id}/role")
def change_role(request: Request, user_id: str, actor: UsersAdminForm, form: FormDep) -> Response:
    try:
        data = UserAdminUpdate(role=field(form, "role", limit=32))
    except ValidationError as exc:
        return _users_page(request, actor, error=form_error(exc))
    return _update(request, actor, user_id, data, _back(field(form, "back", limit=200)))


@router.post(USERS_PAGE + "/{user_id}/active")
def set_active(request: Request, user_id: str, actor: UsersAdminForm, form: FormDep) -> Response:
    data = UserAdminUpdate(is_active=field(form, "active", limit=8) == "1")
    return _update(request, actor, user_id, data, _back(field(form, "back", limit=200)))


@router.post(USERS_PAGE + "/{user_id}/password-reset")
def send_password_reset(request: Request, user_id: str, actor: UsersAdminForm, form: FormDep) -> Response:
    mailer = get_mailer(request)
    try:
        with _db(request).unit_of_work() as session:
            password_changes.admin_reset_password(
                session, actor, user_id, config=auth_config(request), mailer=mailer
            )
    except KilnError as exc:
        return _users_page(request, actor, error=form_error(exc))
    return redirect_with_notice(_back(field(form, "back", limit=200)), "reset_sent")


@router.post("/admin/invites")
def invite(request: Request, actor: UsersAdminForm, form: FormDep) -> Response:
    draft = {
        "email": field(form, "email", limit=320),
        "role": field(form, "role", limit=32),
        "project_id": field(form, "project_id", limit=64),
    }
    mailer = get_mailer(request)
    try:
        data = InviteCreate(email=draft["email"], role=draft["role"], project_id=draft["project_id"] or None)
        with _db(request).unit_of_work() as session:
            service.invite(
                session,
                actor,
                str(data.email),
                data.role.value,
                data.project_id,
                config=auth_config(request),
                mailer=mailer,
            )
    except (KilnError, ValidationError) as exc:
        return _users_page(request, actor, invite_error=form_error(exc), invite_draft=draft)
    return redirect_with_notice(USERS_PAGE, "invited")
