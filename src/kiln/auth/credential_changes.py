"""The auth revision: one counter that every change to who may do what moves, in its transaction.

Services that revoke a key or a login, deactivate a user, change a role or a membership call
``credentials_changed(session)``. The counter is bumped once per transaction, as its last write
(``before_commit``): its row lock serialises such changes, and taking it after every other lock
(the audit chain's head among them) means two transactions can never wait on each other in
opposite orders. After the commit, ``CredentialsChanged`` tells this process's credential cache;
other processes see the new value at their next poll (``current_revision``, a primary-key read).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kiln.auth.events import CredentialsChanged
from kiln.auth.models import AuthRevision
from kiln.core import events
from kiln.core.db import before_commit

_ROW = 1
_TABLE: Any = AuthRevision.__table__
_READ = select(AuthRevision.revision).where(AuthRevision.id == bindparam("row"))


def credentials_changed(session: Session) -> None:
    """Cached credentials must be checked again once this transaction commits."""
    before_commit(session, _bump)


def current_revision(session: Session) -> int:
    """What the serving processes poll: 0 until the first change."""
    return int(session.connection().execute(_READ, {"row": _ROW}).scalar() or 0)


def _bump(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    # An upsert, so the row needs no seeding (and an emptied table starts again).
    insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_TABLE)
    statement = (
        insert.values(id=_ROW, revision=1)
        .on_conflict_do_update(index_elements=["id"], set_={"revision": _TABLE.c.revision + 1})
        .returning(_TABLE.c.revision)
    )
    revision = int(session.connection().execute(statement).scalar_one())
    events.publish(session, CredentialsChanged(revision))
