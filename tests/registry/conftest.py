"""People of the default project, one per role the lifecycle tests need (made through the services)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from kiln.auth.permissions import Role
from tests.registry.lifecycle_api import Person, person


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
