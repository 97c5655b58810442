"""Jobs, queued through the queue's own ``enqueue`` in a committed unit of work."""

from __future__ import annotations

from typing import Any

from kiln.core.db import Database
from kiln.jobs import queue


def make_job(db: Database, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> str:
    """``queue.enqueue`` with the same options (project_id, actor, run_after, priority, max_attempts)."""
    with db.unit_of_work() as session:
        return queue.enqueue(session, kind, payload, **options)
