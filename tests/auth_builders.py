"""Builders for accounts and sessions, through the auth services (no fixtures piled on fixtures)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth import projects, service, tokens
from kiln.auth.config import AuthConfig
from kiln.auth.models import Project, User
from kiln.auth.permissions import Role
from kiln.auth.schemas import MemberSet, ProjectCreate, TokenPair, UserCreate
from kiln.core.actor import SYSTEM
from kiln.core.db import Database
from tests.builders import unique

# Long and uncommon enough for the strength check (zxcvbn score >= 3).
PASSWORD = "amber-lantern-quietly-77"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    password: str
    role: str


def make_user(
    session: Session,
    *,
    email: str | None = None,
    role: Role | str = Role.viewer,
    password: str = PASSWORD,
    name: str = "",
) -> User:
    data = UserCreate(email=email or f"{unique('user')}@example.com", name=name, role=role, password=password)
    return service.create_user(session, SYSTEM, data)


def make_project(
    session: Session, name: str | None = None, *, members: dict[str, str] | None = None
) -> Project:
    """A project with members given as ``{user_id: role}``."""
    project = projects.create_project(session, SYSTEM, ProjectCreate(name=name or unique("project")))
    for user_id, role in (members or {}).items():
        projects.set_member(session, SYSTEM, project.id, MemberSet(user_id=user_id, role=role))
    return project


def make_account(app: FastAPI, *, role: Role | str = Role.viewer, email: str | None = None) -> Account:
    """A user committed to the app's database, ready to log in."""
    db: Database = kiln_state(app).db
    with db.unit_of_work() as session:
        user = make_user(session, email=email, role=role)
        return Account(user.id, user.email, PASSWORD, user.role)


def open_session(app: FastAPI, account: Account) -> TokenPair:
    """Tokens of a fresh login for ``account``, as the login page would issue them."""
    db: Database = kiln_state(app).db
    config: AuthConfig = kiln_state(app).auth_config
    with db.unit_of_work() as session:
        return tokens.open_session(session, service.get_user(session, account.id), config)
