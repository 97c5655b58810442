"""Registry tests: the app's store, a committed unit of work for building data before HTTP calls, and
people of the default project, one per role the lifecycle tests need (made through the services)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.registry.models import ModelVersion, ModelVersionFile
from kiln.storage.store import ArtifactStore
from tests.auth.apps import build_app, mail_app, mail_server
from tests.registry.lifecycle_api import Person, person

__all__ = ["build_app", "mail_app", "mail_server"]

Committed = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def store(app: FastAPI) -> ArtifactStore:
    return kiln_state(app).store


@pytest.fixture
def committed(app: FastAPI) -> Committed:
    """``with committed() as session:`` builds data that the API sees (it commits on leaving)."""
    return kiln_state(app).db.unit_of_work


def model_objects(store: ArtifactStore) -> list[str]:
    """Every object under the registry's prefix in the store."""
    root = Path(store.root) / "models"
    return (
        sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
        if root.exists()
        else []
    )


def version_rows(committed: Committed) -> tuple[int, int]:
    with committed() as session:
        versions = session.scalar(select(func.count()).select_from(ModelVersion)) or 0
        file_rows = session.scalar(select(func.count()).select_from(ModelVersionFile)) or 0
        return versions, file_rows


@pytest.fixture
def nothing_left(store: ArtifactStore, committed: Committed) -> Iterator[Callable[[], None]]:
    """Call it after a refused registration: no version rows and no objects were left behind."""

    def check() -> None:
        assert version_rows(committed) == (0, 0)
        assert model_objects(store) == []

    return check


@pytest.fixture
def engineer(app: FastAPI) -> Person:
    return person(app, Role.ml_engineer)


@pytest.fixture
def approver(app: FastAPI) -> Person:
    """A second ml_engineer: the four eyes' other pair."""
    return person(app, Role.ml_engineer)


@pytest.fixture
def scientist(app: FastAPI) -> Person:
    return person(app, Role.data_scientist)


@pytest.fixture
def viewer(app: FastAPI) -> Person:
    return person(app, Role.viewer)


@pytest.fixture
def auditor(app: FastAPI) -> Person:
    return person(app, Role.auditor)
