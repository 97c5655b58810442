"""The worker's settings (``KILN_WORKER`` and ``KILN_WORKER_*``).

``KILN_WORKER=0`` keeps ``kiln server`` from running its in-process worker (``kiln server
--no-worker`` sets it), for a control plane whose jobs run in ``kiln worker`` processes.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_WORKER_", extra="ignore", frozen=True)

    enabled: bool = Field(default=True, validation_alias=AliasChoices("KILN_WORKER", "enabled"))
    # Jobs run at once by one worker (threads).
    concurrency: int = Field(default=4, ge=1, le=256)
    # How often an idle worker looks for due jobs (a commit in the same process wakes it sooner).
    poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    # A job whose worker sent no heartbeat for this long is taken over by another worker.
    lease_seconds: float = Field(default=30.0, ge=1, le=86400)
    # On stop, running jobs get this long to finish before they are given back to the queue.
    grace_seconds: float = Field(default=10.0, ge=0, le=3600)
    # Whether this worker fires cron schedules, and how often it looks for due ones. Every worker
    # may: the database gives each fire to one of them.
    schedules: bool = True
    schedule_seconds: float = Field(default=5.0, gt=0, le=3600)
