"""What every domain's builders share: unique names and the app's database."""

from __future__ import annotations

from fastapi import FastAPI

from kiln.app import kiln_state
from kiln.core.db import Database

_counter = {"n": 0}


def unique(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}-{_counter['n']}"


def database(app: FastAPI) -> Database:
    db: Database = kiln_state(app).db
    return db
