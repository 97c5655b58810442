"""What every domain's builders share: unique names and the app's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from kiln.app import kiln_state
from kiln.core.db import Database

_counter = {"n": 0}


def unique(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}-{_counter['n']}"


def database(app: FastAPI) -> Database:
    db: Database = kiln_state(app).db
    return db


@contextmanager
def counted_statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL the app's engine sends while the block runs."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
