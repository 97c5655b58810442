"""Database engine, sessions and the declarative base every domain's models inherit.

One engine per process (held by ``Database``); one session, one transaction per request,
job or command. Services ``flush()``, never ``commit()``: the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from kiln.core.ids import ensure_utc, new_id, utcnow

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # LIKE is case-sensitive on PostgreSQL; make SQLite agree (ILIKE stays case-insensitive on both).
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if in_memory else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """The process's engine and session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error."""
        session = self.sessionmaker()
        try:
            yield session
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
    only_if: Any = None,
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET update[...] [WHERE only_if], on SQLite and PostgreSQL.

    ``only_if`` receives the ``excluded`` row and returns a condition, for "newer wins" updates.
    With ``update=[]`` existing rows are left alone (ON CONFLICT DO NOTHING): the first writer wins.
    """
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    statement: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if not update:
        session.execute(statement.on_conflict_do_nothing(index_elements=key), rows)
        return
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_={column: excluded[column] for column in update},
        where=only_if(excluded) if only_if is not None else None,
    )
    session.execute(statement, rows)
