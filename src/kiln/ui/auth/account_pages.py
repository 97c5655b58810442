"""The logged-in user's own account: profile (with the notify settings card), password, and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from kiln.auth import api_keys, password_changes, projects, service
from kiln.auth.permissions import grantable_roles
from kiln.auth.schemas import DEFAULT_KEY_DAYS, ApiKeyCreate, ApiKeyRead, ProfileUpdate, UserRead
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.permissions import Permission
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.notify.settings_form import profile_card as notification_card
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.session import UiActor, auth_config
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ProfileForm = Annotated[Actor, Depends(form_require(Permission.profile_write))]
KeysPage = Annotated[Actor, Depends(page_require(Permission.api_keys_write))]
KeysForm = Annotated[Actor, Depends(form_require(Permission.api_keys_write))]

# Every key expires (there is no "never"); choices above the server's maximum are not offered.
EXPIRY_CHOICES: tuple[tuple[int, str], ...] = ((30, "30 days"), (90, "90 days"), (365, "1 year"))
# The project field's value for an administrator's global key.
GLOBAL_CHOICE = "global"


def expiry_choices(max_days: int) -> list[tuple[str, str]]:
    choices = [(str(days), label) for days, label in EXPIRY_CHOICES if days <= max_days]
    if max_days not in {days for days, _label in EXPIRY_CHOICES}:
        choices.append((str(max_days), f"{max_days} days (the longest allowed)"))
    return sorted(choices, key=lambda choice: int(choice[0]))


_db = get_db


# -- profile ------------------------------------------------------------------------------------


def _profile_page(
    request: Request,
    actor: Actor,
    *,
    profile_error: FormError | None = None,
    password_error: FormError | None = None,
    name: str | None = None,
) -> Response:
    with _db(request).unit_of_work() as session:
        user = UserRead.model_validate(service.get_user(session, actor.user_id or ""))
        # The notify domain's card: every kind with its in-app and email boxes.
        notification_settings = notification_card(session, user.id)
    error = profile_error or password_error
    return render(
        request,
        "auth/profile.html",
        {
            "section": "profile",
            "user": user,
            "name": user.name if name is None else name,
            "notification_settings": notification_settings,
            "notice": notice(request),
            "profile_error": profile_error.message if profile_error else None,
            "password_error": password_error.message if password_error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/profile")
def profile(request: Request, actor: UiActor) -> Response:
    return _profile_page(request, actor)


@router.post("/profile")
def save_profile(request: Request, actor: ProfileForm, form: FormDep) -> Response:
    name = field(form, "name", limit=300)
    try:
        data = ProfileUpdate(name=name)
        with _db(request).unit_of_work() as session:
            service.update_profile(session, actor, data)
    except (KilnError, ValidationError) as exc:
        return _profile_page(request, actor, profile_error=form_error(exc), name=name)
    return redirect_with_notice("/profile", "profile_saved")


@router.post("/profile/password")
def change_password(request: Request, actor: ProfileForm, form: FormDep) -> Response:
    current, new = field(form, "current_password", limit=256), field(form, "new_password", limit=256)
    if new != field(form, "new_password_confirm", limit=256):
        error = FormError("the two new passwords are not the same; type it twice", 422)
        return _profile_page(request, actor, password_error=error)
    revoke_keys = field(form, "revoke_api_keys", limit=8) == "1"
    try:
        with _db(request).unit_of_work() as session:
            password_changes.change_password(session, actor, current, new, revoke_api_keys=revoke_keys)
    except KilnError as exc:
        return _profile_page(request, actor, password_error=form_error(exc))
    return redirect_with_notice("/profile", "password_changed")


# -- API keys -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyRow:
    key: ApiKeyRead
    project_name: str

    @property
    def status(self) -> str:
        return self.key.status


def key_rows(keys: list[ApiKeyRead], project_names: dict[str, str]) -> list[KeyRow]:
    return [KeyRow(key, project_names.get(key.project_id or "", key.project_id or "")) for key in keys]


def _keys_context(request: Request, actor: Actor) -> dict[str, Any]:
    with _db(request).unit_of_work() as session:
        keys = [ApiKeyRead.model_validate(key) for key in api_keys.list_api_keys(session, actor).items]
        mine = projects.list_projects(session, actor).items
    max_days = auth_config(request).api_key_max_days
    return {
        "section": "api-keys",
        "keys": key_rows(keys, {project.id: project.name for project in mine}),
        "projects": mine,
        "roles": [role.value for role in grantable_roles(actor.role)],
        "expiry_choices": expiry_choices(max_days),
        "max_days": max_days,
        "may_create_global": actor.is_admin,
        "global_choice": GLOBAL_CHOICE,
        "notice": notice(request),
    }


def _keys_page(
    request: Request, actor: Actor, *, error: FormError | None = None, draft: dict[str, str] | None = None
) -> Response:
    context = _keys_context(request, actor)
    default_days = str(min(DEFAULT_KEY_DAYS, auth_config(request).api_key_max_days))
    context.update(error=error.message if error else None, draft=draft or {"expires": default_days})
    return render(request, "auth/api_keys.html", context, status_code=error.status_code if error else 200)


@router.get("/api-keys")
def keys(request: Request, actor: KeysPage) -> Response:
    return _keys_page(request, actor)


@router.post("/api-keys")
def create_key(request: Request, actor: KeysForm, form: FormDep) -> Response:
    draft = {
        "name": field(form, "name", limit=200),
        "project_id": field(form, "project_id", limit=64),
        "role": field(form, "role", limit=32),
        "expires": field(form, "expires", limit=8),
    }
    is_global = draft["project_id"] == GLOBAL_CHOICE
    try:
        data = ApiKeyCreate(
            name=draft["name"],
            scope="global" if is_global else "project",
            project_id=None if is_global else draft["project_id"],
            role=draft["role"],
            # Not a number: let the schema say so (422), never fall back to a key that never expires.
            expires_in_days=draft["expires"],
        )
        with _db(request).unit_of_work() as session:
            max_days = auth_config(request).api_key_max_days
            api_key, secret = api_keys.create_api_key(session, actor, data, max_days=max_days)
            created = ApiKeyRead.model_validate(api_key)
            project = (
                "every project (global)"
                if created.project_id is None
                else projects.get_project(session, actor, created.project_id).name
            )
    except (KilnError, ValidationError) as exc:
        return _keys_page(request, actor, error=form_error(exc), draft=draft)
    # The only time the key is ever shown: it is stored hashed.
    return render(
        request,
        "auth/api_key_created.html",
        {"section": "api-keys", "key": created, "secret": secret, "project_name": project},
        status_code=201,
    )


@router.post("/api-keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str, actor: KeysForm) -> Response:
    with _db(request).unit_of_work() as session:
        api_keys.revoke_api_key(session, actor, key_id)
    return redirect_with_notice("/api-keys", "key_revoked")
