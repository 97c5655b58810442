"""Jobs, queued through the queue's own ``enqueue`` in a committed unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiln.core.actor import Actor
from kiln.core.db import Database
from kiln.jobs import queue


def make_job(
    db: Database,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    project_id: str | None = None,
    actor: Actor | None = None,
    run_after: datetime | None = None,
    priority: int = 0,
    max_attempts: int | None = None,
) -> str:
    with db.unit_of_work() as session:
        return queue.enqueue(
            session,
            kind,
            payload,
            project_id=project_id,
            actor=actor,
            run_after=run_after,
            priority=priority,
            max_attempts=max_attempts,
        )
