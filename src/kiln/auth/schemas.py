"""Auth I/O schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, computed_field, model_validator

from kiln.auth.permissions import Role
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.schemas import InputSchema, ReadSchema


def normalise_email(email: str) -> str:
    """The one spelling of an address Kiln stores and compares (lookups, rate-limit counters)."""
    return email.strip().lower()


def _email(value: str) -> str:
    # Syntax only (no DNS: installs are often offline); internal domains and ".test" are allowed.
    try:
        checked = validate_email(
            value, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc
    return checked.normalized.lower()


EmailStr = Annotated[str, Field(max_length=320), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=1, max_length=256)]
PersonName = Annotated[str, Field(max_length=256)]


class RegisterRequest(InputSchema):
    email: EmailStr
    password: Password
    name: PersonName = ""
    invite_token: Annotated[str, Field(max_length=256)] | None = None
    # Only for the very first account: the one-time token from the server log.
    setup_token: Annotated[str, Field(max_length=256)] | None = None


class LoginRequest(InputSchema):
    email: Annotated[str, Field(max_length=320)]
    password: Password


class TokenPair(ReadSchema):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshRequest(InputSchema):
    refresh_token: Annotated[str, Field(max_length=256)]


class TokenRequest(InputSchema):
    token: Annotated[str, Field(max_length=256)]


class PasswordResetRequest(InputSchema):
    email: Annotated[str, Field(max_length=320)]


class PasswordResetConfirm(InputSchema):
    token: Annotated[str, Field(max_length=256)]
    new_password: Password
    # A forgotten password may be a stolen one: by default its keys go with it.
    revoke_api_keys: bool = True


class PasswordChange(InputSchema):
    current_password: Password
    new_password: Password
    revoke_api_keys: bool = False


class UserRead(ReadSchema):
    id: str
    email: str
    name: str
    role: Role
    is_active: bool
    email_confirmed_at: datetime | None
    notification_settings: dict[str, Any]
    created_at: datetime
    last_login_at: datetime | None


class ProfileUpdate(InputSchema):
    name: PersonName | None = None
    notification_settings: Annotated[dict[str, bool], Field(max_length=50)] | None = None


class UserAdminUpdate(InputSchema):
    role: Role | None = None
    is_active: bool | None = None


class UserCreate(InputSchema):
    email: EmailStr
    name: PersonName = ""
    role: Role = Role.viewer
    password: Password


class InviteCreate(InputSchema):
    email: EmailStr
    role: Role = Role.viewer
    project_id: str | None = None


class InviteRead(ReadSchema):
    id: str
    email: str
    role: str
    project_id: str | None
    expires_at: datetime


class ProjectCreate(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    description: Annotated[str, Field(max_length=5000)] = ""


class ProjectRead(ReadSchema):
    id: str
    name: str
    description: str
    created_at: datetime
    my_role: Role | None = None


class MemberSet(InputSchema):
    user_id: str | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    role: Role


class MemberRead(ReadSchema):
    user_id: str
    email: str
    name: str
    role: Role


KeyScope = Literal["project", "global"]
DEFAULT_KEY_DAYS = 90


class ApiKeyCreate(InputSchema):
    """A key for one project; or, for administrators only and on purpose, a ``global`` key (no project).

    Every key expires: ``expires_in_days`` (default 90) may not exceed the server's
    ``KILN_API_KEY_MAX_DAYS``; there is no never-expiring key.
    """

    name: Annotated[str, Field(min_length=1, max_length=128)]
    scope: KeyScope = "project"
    project_id: str | None = None
    role: Role
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] = DEFAULT_KEY_DAYS

    @model_validator(mode="after")
    def _project_matches_scope(self) -> Self:
        if self.scope == "project" and not self.project_id:
            raise ValueError('a project key needs a project_id (or ask for scope "global")')
        if self.scope == "global" and self.project_id:
            raise ValueError("a global key acts in every project; leave project_id out")
        return self


KeyStatus = Literal["active", "expired", "revoked"]


class ApiKeyRead(ReadSchema):
    id: str
    name: str
    prefix: str
    role: Role
    scope: KeyScope
    project_id: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> KeyStatus:
        """Whether requests with the key are accepted now (the API, UI and CLI say the same)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and ensure_utc(self.expires_at) <= utcnow():
            return "expired"
        return "active"


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="shown once; store it now")
