"""What a job's handler receives, and what it may raise to steer the queue.

A handler runs in a worker thread with its own unit of work: it takes the job's id and payload from
``JobContext`` and opens its sessions on ``context.db``. Delivery is at least once (a worker that
dies after the handler committed but before the job was marked done leaves the job to run again),
so handlers are written to be safe to repeat.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from kiln.core.db import Database


class JobCancelled(Exception):
    """Raised by a handler (``context.raise_if_cancelled()``) that stops because cancel was asked."""


class PermanentFailure(Exception):
    """Raised by a handler for a failure another attempt would repeat (bad input): no retry."""


@dataclass(slots=True)
class JobContext:
    job_id: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    project_id: str | None
    db: Database
    # Set by the worker when someone asked to cancel the job, its lease was lost or it timed out.
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def cancel_requested(self) -> bool:
        return self.stop.is_set()

    def raise_if_cancelled(self) -> None:
        """Call between steps of a long handler: ends the job as cancelled when asked to stop."""
        if self.stop.is_set():
            raise JobCancelled(f"job {self.job_id} was asked to stop")
