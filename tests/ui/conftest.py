"""Page tests build data with the services (tests/builders/), committed before the page is asked for.

Pages need a login: modules that test pages mark themselves ``usefixtures("logged_in")``.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.core.db import Database
from tests.builders.auth import Account, make_account
from tests.ui.sessions import use_session


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = kiln_state(app).db
    return database


@pytest.fixture
def admin(app: FastAPI) -> Account:
    return make_account(app, role=Role.admin)


@pytest.fixture
def logged_in(client: TestClient, app: FastAPI, admin: Account) -> Account:
    """The test client is logged in as an administrator, who sees every project."""
    use_session(client, app, admin)
    return admin


@pytest.fixture
def client(anonymous_client: TestClient) -> TestClient:
    """Pages authenticate with cookies, not a Bearer header: UI tests start signed out."""
    return anonymous_client
