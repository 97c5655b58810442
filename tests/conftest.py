"""Fixtures: a real app on a real database (SQLite by default, PostgreSQL when
KILN_TEST_DATABASE_URL is set) and a temporary artifact root.

The schema is migrated once per session; every test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.core import security
from kiln.core.db import Database
from kiln.core.migrate import upgrade_database
from tests.builders import make_user_token
from tests.password_hashing import HashOncePerPassword
from tests.settings import empty_all_tables, settings_for_tests


@pytest.fixture(scope="session", autouse=True)
def _hash_each_password_once() -> Iterator[None]:
    """Builders make every user through the auth service, and argon2 costs ~0.1 s a hash on purpose:
    each distinct password is hashed once per test process, by Kiln's own hasher (checks stay real)."""
    hasher = HashOncePerPassword(security._hasher())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", lambda: hasher)
        yield


@pytest.fixture(autouse=True, scope="session")
def _uncached_loggers() -> Iterator[None]:
    """structlog's ``capture_logs`` cannot see a logger that cached its configuration on first use
    (structlog's docs); whether one had depends on which test ran first in the worker."""
    configure = structlog.configure

    def uncached(*args: Any, **kwargs: Any) -> None:
        configure(*args, **{**kwargs, "cache_logger_on_first_use": False})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(structlog, "configure", uncached)
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("KILN_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kiln-test.db'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        yield url
        return
    # Parallel workers each get a database of their own: every test empties all tables first.
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    upgrade_database(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, migrated_database: Database) -> Iterator[KilnSettings]:
    empty_all_tables(migrated_database)
    return settings_for_tests(tmp_path, database_url)


@pytest.fixture
def app(settings: KilnSettings) -> Iterator[FastAPI]:
    application = create_app(settings, migrate=False)
    yield application
    kiln_state(application).db.dispose()


@pytest.fixture
def admin_token(app: FastAPI) -> str:
    """An access token of an admin (member of the default project), made through the services."""
    return make_user_token(app, "admin@kiln.test", role="admin")


@pytest.fixture
def client(app: FastAPI, admin_token: str) -> Iterator[TestClient]:
    """A TestClient authenticated as an admin."""
    with TestClient(app, headers={"Authorization": f"Bearer {admin_token}"}) as test_client:
        yield test_client


@pytest.fixture
def anonymous_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A unit of work on the app's database, committed at the end of the test."""
    db: Database = kiln_state(app).db
    with db.unit_of_work() as unit:
        yield unit
