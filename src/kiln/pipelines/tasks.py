"""The pipelines' job kinds: executing a run (``execution``) and firing new-data triggers.

The run handler needs the artifact store and a mailer, which ``JobContext`` does not carry:
``register_job_kinds`` binds the process's (one per ``kiln server`` or ``kiln worker``, built from
its settings). ``stop_step_processes`` ends the step processes runs share, with the worker (its app's
lifespan, or ``kiln worker``). ``TriggerSubscription`` wires the dataset event to the trigger job
for an app's life.
"""

from __future__ import annotations

from typing import Any

from kiln.core import events
from kiln.core.db import Database
from kiln.data.events import DatasetVersionCreated
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, register_job_kind
from kiln.notify.email import Mailer
from kiln.pipelines.execution import Execution
from kiln.pipelines.executors import close_shared
from kiln.pipelines.run_records import PipelineRuntime
from kiln.pipelines.runs import RUN_JOB
from kiln.pipelines.scheduled import SCHEDULED_JOB, start_scheduled_run
from kiln.pipelines.settings import PipelineSettings
from kiln.pipelines.triggers import TRIGGER_JOB, DatasetTriggers, fire
from kiln.storage.store import ArtifactStore

_runtime: PipelineRuntime | None = None


def register_job_kinds(store: ArtifactStore, settings: PipelineSettings, *, mailer: Mailer) -> None:
    """The run and trigger jobs, executing with ``store`` (the last app or worker built in this process)."""
    global _runtime
    _runtime = PipelineRuntime(store, settings, mailer)
    # Steps retry themselves; a job attempt is retried only when the handler itself broke (the
    # database was away), and then resumes the run.
    register_job_kind(
        RUN_JOB, run_pipeline, max_attempts=5, backoff=Backoff(initial_seconds=2, max_seconds=60)
    )
    register_job_kind(TRIGGER_JOB, fire_triggers, max_attempts=3)
    register_job_kind(SCHEDULED_JOB, start_schedule, max_attempts=3)


def stop_step_processes() -> None:
    """Stop the step processes (and Dask clients) this process's runs share; called once the
    worker has stopped, so no run is using them."""
    close_shared()


def _bound() -> PipelineRuntime:
    if _runtime is None:
        raise PermanentFailure("pipeline jobs need the artifact store: call register_job_kinds first")
    return _runtime


def run_pipeline(context: JobContext) -> dict[str, Any]:
    execution = Execution.load(context, _bound())
    if execution is None:
        return {"run_id": context.payload.get("run_id"), "state": "finished already"}
    return execution.run()


def start_schedule(context: JobContext) -> dict[str, Any]:
    return start_scheduled_run(context, artifact_root_url=_bound().store.root_url)


def fire_triggers(context: JobContext) -> dict[str, Any]:
    with context.db.unit_of_work() as session:
        started = fire(session, context.payload, artifact_root_url=_bound().store.root_url)
    return {"runs": started}


class TriggerSubscription:
    """``DatasetVersionCreated`` -> the trigger job, while an app runs (entered once per lifespan)."""

    def __init__(self, db: Database) -> None:
        self.handler = DatasetTriggers(db)
        self._subscriptions = 0

    def subscribe(self) -> None:
        self._subscriptions += 1
        events.subscribe(DatasetVersionCreated, self.handler)

    def unsubscribe(self) -> None:
        self._subscriptions = max(0, self._subscriptions - 1)
        if not self._subscriptions:
            events.unsubscribe(DatasetVersionCreated, self.handler)
