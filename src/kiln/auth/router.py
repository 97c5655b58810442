"""Public auth routes (register, login, refresh, logout, email links) and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse

from kiln.auth import api_keys, password_changes, service, tokens
from kiln.auth.deps import AuthConfigDep, RateLimitsDep
from kiln.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginRequest,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    TokenRequest,
    UserRead,
)
from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_response, error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.notify.deps import MailerDep

router = APIRouter(
    prefix="/api/v1", tags=["auth"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429)
)

ProfileRead = Annotated[Actor, Depends(require(Permission.profile_read))]
ProfileWrite = Annotated[Actor, Depends(require(Permission.profile_write))]
KeysWrite = Annotated[Actor, Depends(require(Permission.api_keys_write))]
KeysRevoke = Annotated[Actor, Depends(require(Permission.api_keys_revoke))]
ACCEPTED = {"status": "accepted"}


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=UserRead)
def register(
    data: RegisterRequest,
    request: Request,
    session: SessionDep,
    config: AuthConfigDep,
    limits: RateLimitsDep,
    mailer: MailerDep,
) -> UserRead:
    limits.throttle_form(_client_ip(request), "register", data.email)
    user = service.register(session, data, config=config, mailer=mailer)
    return UserRead.model_validate(user)


@router.post("/auth/login", response_model=TokenPair)
def login(
    data: LoginRequest, request: Request, session: SessionDep, config: AuthConfigDep, limits: RateLimitsDep
) -> TokenPair:
    with limits.login_attempt(_client_ip(request), data.email):
        pair, _user = service.login(session, data.email, data.password, config=config)
    return pair


@router.post("/auth/refresh", response_model=TokenPair)
def refresh(data: RefreshRequest, session: SessionDep, config: AuthConfigDep) -> TokenPair | JSONResponse:
    pair = tokens.refresh_tokens(session, data.refresh_token, config)
    if pair is None:
        # Returned, not raised: a detected reuse revokes the session, and that must be committed.
        return error_response(401, "unauthenticated", "invalid or expired token")
    return pair


@router.post("/auth/logout", status_code=status.HTTP_200_OK)
def logout(data: RefreshRequest, session: SessionDep) -> dict[str, str]:
    service.logout(session, data.refresh_token)
    return {"status": "logged_out"}


@router.post("/auth/confirm-email", response_model=UserRead)
def confirm_email(data: TokenRequest, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.confirm_email(session, data.token))


@router.post("/auth/password-reset", status_code=status.HTTP_202_ACCEPTED)
def request_password_reset(
    data: PasswordResetRequest,
    request: Request,
    session: SessionDep,
    config: AuthConfigDep,
    limits: RateLimitsDep,
    mailer: MailerDep,
) -> dict[str, str]:
    """Always 202: the answer never tells whether the address has an account."""
    limits.throttle_form(_client_ip(request), "reset", data.email)
    password_changes.request_password_reset(session, data.email, config=config, mailer=mailer)
    return ACCEPTED


@router.post("/auth/password-reset/confirm")
def confirm_password_reset(data: PasswordResetConfirm, session: SessionDep) -> dict[str, str]:
    password_changes.reset_password(
        session, data.token, data.new_password, revoke_api_keys=data.revoke_api_keys
    )
    return {"status": "password_changed"}


# -- the caller's own account -----------------------------------------------------------------


@router.get("/me", response_model=UserRead)
def me(actor: ProfileRead, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.get_user(session, actor.user_id or ""))


@router.patch("/me", response_model=UserRead)
def update_me(data: ProfileUpdate, actor: ProfileWrite, session: SessionDep) -> UserRead:
    return UserRead.model_validate(service.update_profile(session, actor, data))


@router.post("/me/password")
def change_password(data: PasswordChange, actor: ProfileWrite, session: SessionDep) -> dict[str, str]:
    password_changes.change_password(
        session, actor, data.current_password, data.new_password, revoke_api_keys=data.revoke_api_keys
    )
    return {"status": "password_changed"}


@router.get("/me/api-keys", response_model=Page[ApiKeyRead])
def list_keys(actor: KeysWrite, session: SessionDep, page: PageQuery) -> Page[ApiKeyRead]:
    """The caller's keys, newest first; ``status`` says whether each is active, expired or revoked."""
    found = api_keys.list_api_keys(session, actor, page)
    return found.with_items([ApiKeyRead.model_validate(key) for key in found.items])


@router.post("/me/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
def create_key(
    data: ApiKeyCreate, actor: KeysWrite, session: SessionDep, config: AuthConfigDep
) -> ApiKeyCreated:
    max_days = config.api_key_max_days
    api_key, secret = api_keys.create_api_key(session, actor, data, max_days=max_days)
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=secret)


# Declared before ``{key_id}`` so that "current" is never taken for a key id.
@router.delete("/me/api-keys/current", response_model=ApiKeyRead)
def revoke_current_key(actor: KeysRevoke, session: SessionDep) -> ApiKeyRead:
    """Revoke the API key this request is made with (what ``kiln logout`` does)."""
    return ApiKeyRead.model_validate(api_keys.revoke_calling_key(session, actor))


@router.delete("/me/api-keys/{key_id}", response_model=ApiKeyRead)
def revoke_key(key_id: str, actor: KeysRevoke, session: SessionDep) -> ApiKeyRead:
    """A user revokes their own keys (an admin anyone's); a project's API key only itself."""
    return ApiKeyRead.model_validate(api_keys.revoke_api_key(session, actor, key_id))
