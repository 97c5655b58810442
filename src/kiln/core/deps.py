"""FastAPI dependencies every domain's routes share: the unit of work, settings, the acting identity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.db import Database
from kiln.core.settings import Settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with db.unit_of_work() as session:
        yield session


def current_actor(request: Request) -> Actor:
    # Identity is self-declared until authentication lands; the header names the user for records.
    user = request.headers.get("x-kiln-user", "").strip()[:256]
    return Actor(kind="user", id=user or "anonymous", name=user or "anonymous")


# "function" scope: commit before the response is sent, so a client that got 2xx can read its write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
ActorDep = Annotated[Actor, Depends(current_actor)]
