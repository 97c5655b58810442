"""Database engine, sessions and the declarative base every domain's models inherit.

One engine per process (held by ``Database``); one session, one transaction per request,
job or command. Services ``flush()``, never ``commit()``: the unit of work commits.

Side effects (mail, events, cache refreshes) must never leave for data that was rolled back: queue
them with ``after_commit(session, fn)``. They run once the transaction has committed and are dropped
if it rolls back. What must survive a crash between commit and delivery belongs in the job queue's
outbox instead (jobs are enqueued in the caller's transaction).

A write that must be the transaction's last (a shared counter whose row lock should be held for the
shortest time, after every other lock the transaction takes) is queued with ``before_commit``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import chain
from typing import Any, ClassVar

import structlog
from sqlalchemy import JSON, DateTime, Engine, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from kiln.core.ids import ensure_utc, new_id, utcnow

log = structlog.get_logger(__name__)

_AFTER_COMMIT = "kiln.after_commit"
_AFTER_ROLLBACK = "kiln.after_rollback"
_BEFORE_COMMIT = "kiln.before_commit"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return ensure_utc(value) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return ensure_utc(value) if value is not None else None


# JSONB on PostgreSQL (indexable), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSONType}


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # LIKE is case-sensitive on PostgreSQL; make SQLite agree (ILIKE stays case-insensitive on both).
    cursor.execute("PRAGMA case_sensitive_like=ON")
    # Reads through a memory map instead of a read() per page: each connection's page cache starts
    # over whenever another connection commits (every request does), and re-reading pages through
    # the map costs no system call. Address space only; the OS pages in what is touched.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        # Most recently returned connection first (LIFO): sequential requests keep using the one
        # connection whose statement cache and pages are warm, instead of cycling through the pool.
        pool_options: dict[str, Any] = {"poolclass": StaticPool} if in_memory else {"pool_use_lifo": True}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the session's transaction commits; drop it if the transaction rolls back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def before_commit(session: Session, callback: Callable[[Session], object]) -> None:
    """Run ``callback(session)`` inside the transaction, just before it commits (once, however many
    times the same callback is queued); dropped if the transaction rolls back. A failing callback
    fails the commit."""
    queued = session.info.setdefault(_BEFORE_COMMIT, [])
    if callback not in queued:
        queued.append(callback)


def _run_before_commit(session: Session) -> None:
    for callback in session.info.pop(_BEFORE_COMMIT, []):
        callback(session)


def after_rollback(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` if the session's transaction rolls back; drop it once the transaction commits.

    For undoing what lives outside the database: objects copied into the store for rows that were
    never committed (a registered model version whose transaction failed must leave no files).
    """
    session.info.setdefault(_AFTER_ROLLBACK, []).append(callback)


def _run_callbacks(callbacks: list[Callable[[], object]], failure_event: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The transaction has ended either way; a failed side effect must not change its outcome.
            name = getattr(callback, "__qualname__", repr(callback))
            log.exception(failure_event, callback=name)


def _run_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    _run_callbacks(session.info.pop(_AFTER_COMMIT, []), "db.after_commit_failed")


def _drop_after_commit(session: Session) -> None:
    session.info.pop(_BEFORE_COMMIT, None)
    session.info.pop(_AFTER_COMMIT, None)
    _run_callbacks(session.info.pop(_AFTER_ROLLBACK, []), "db.after_rollback_failed")


class Database:
    """The process's engine and session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Session events, not the unit of work, so every session of this factory keeps the promise.
        event.listen(self.sessionmaker, "before_commit", _run_before_commit)
        event.listen(self.sessionmaker, "after_commit", _run_after_commit)
        event.listen(self.sessionmaker, "after_rollback", _drop_after_commit)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            # Already committed (``commit_in_route``) and nothing since: committing again would only
            # begin and end an empty transaction.
            if (
                session.in_transaction()
                or session.info.get(_BEFORE_COMMIT)
                or session.info.get(_AFTER_COMMIT)
            ):
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_rows(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    key: list[str],
    update: list[str],
    only_if: Callable[[Any], Any] | None = None,
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET update[...] [WHERE only_if], on SQLite and PostgreSQL.

    ``only_if`` receives the ``excluded`` row and returns a condition, for "newer wins" updates; pass
    a module-level function: the statement is built once per (table, key, update, only_if, dialect).
    With ``update=[]`` existing rows are left alone (ON CONFLICT DO NOTHING): the first writer wins.
    """
    if not rows:
        return
    connection = session.connection()
    statement = _upsert_statement(connection.dialect.name, table, tuple(key), tuple(update), only_if)
    connection.execute(statement, rows)


@functools.lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str,
    table: Any,
    key: tuple[str, ...],
    update: tuple[str, ...],
    only_if: Callable[[Any], Any] | None,
) -> Any:
    # Built once: on a batch of one point, building the statement cost more than running it.
    from sqlalchemy.dialects import postgresql, sqlite

    statement: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={column: excluded[column] for column in update},
        where=only_if(excluded) if only_if is not None else None,
    )


# Rows per INSERT statement. SQLite's driver steps an executemany once per row, letting go of the
# GIL and taking it back each time, which makes an event loop's thread hand it over on every row: a
# 1,000-record prediction log flush took about 900 ms beside a serving loop, 5 ms alone
# (docs/benchmarks.md, "The prediction log's flush"). 128 rows of 15 columns are bound in one call
# of about 0.2 ms, short enough not to hold a request up for long.
ROWS_PER_STATEMENT = 128


def insert_rows(
    session: Session,
    table: Any,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    rows_per_statement: int = ROWS_PER_STATEMENT,
) -> None:
    """Plain multi-row INSERTs (``VALUES (...), (...)``) of positional tuples, straight to the driver.

    For hot paths only (metric points, the prediction log), on columns without type decorators:
    SQLAlchemy's own executemany builds and processes a parameter dict per row, which cost four times
    the insert itself (profiled on a 10,000-point batch). The statement text is built once per
    dialect and shape.
    """
    if not rows:
        return
    connection = session.connection()
    paramstyle = connection.dialect.paramstyle
    step = max(1, min(rows_per_statement, _MAX_PARAMETERS // len(columns)))
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        sql = _insert_sql(table.name, columns, paramstyle, len(chunk))
        connection.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))


# SQLite's default limit on bound parameters is 32,766 (PostgreSQL's 65,535).
_MAX_PARAMETERS = 32_000
_INSERT_SQL: dict[tuple[str, tuple[str, ...], str, int], str] = {}


def _insert_sql(table: str, columns: tuple[str, ...], paramstyle: str, rows: int) -> str:
    cache_key = (table, columns, paramstyle, rows)
    sql = _INSERT_SQL.get(cache_key)
    if sql is None:
        marker = "?" if paramstyle == "qmark" else "%s"
        one = f"({', '.join([marker] * len(columns))})"
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"
        _INSERT_SQL[cache_key] = sql
    return sql
