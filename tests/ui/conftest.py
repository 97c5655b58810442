"""Page tests build data with the services (tests/builders.py), committed before the page is asked for."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from kiln.core.db import Database


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.db
    return database
