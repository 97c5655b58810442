"""A pipeline run as its loop knows it, kept in step with the run's rows in the database.

``RunRecords`` holds the run in memory (each step's state, output and attempts; the graph indexed
once, with the steps each step waits for and the heap of those ready) and writes what changes
beyond a pass's batched step states (``step_records``): loading the run, which resumes a run whose
worker died (steps that succeeded are read back and not run again, steps that were running run
again); an attempt's outcome, what to record (the loop batches it into its pass's transaction) and,
when the step is done with, its child tracking run; a step reused from the cache; a cancelled run;
and the end of the run in one transaction: the last outcomes, every step not run marked skipped, the
run's state, and its pipeline's owners told when it failed. The loop that runs the steps on an
executor is ``execution.Execution``, built on this.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Any, Self, cast

import structlog
from sqlalchemy import Table, select, update

from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.jobs.context import JobCancelled, JobContext, PermanentFailure
from kiln.jobs.models import Job
from kiln.notify.email import Mailer
from kiln.pipelines import failure_notice, finished_step, step_records
from kiln.pipelines.models import Pipeline, PipelineRun, PipelineStepRun, PipelineVersion
from kiln.pipelines.schemas import FINISHED_RUN_STATES, RunState, StepState
from kiln.pipelines.settings import PipelineSettings
from kiln.pipelines.spec import PipelineSpec, StepSpec
from kiln.pipelines.step_process import StepOutcome
from kiln.pipelines.tracking_link import end_tracking_run
from kiln.storage.store import ArtifactStore

log = structlog.get_logger(__name__)

_runs = cast(Table, PipelineRun.__table__)


@dataclass(frozen=True, slots=True)
class PipelineRuntime:
    """What every run a process executes works with: the artifact store, settings, the mailer."""

    store: ArtifactStore
    settings: PipelineSettings
    mailer: Mailer


@dataclass
class RunRecords:
    """The run in memory, and the writes that keep its rows in step (``Execution`` runs its loop)."""

    context: JobContext
    runtime: PipelineRuntime
    run_id: str
    project_id: str
    spec: PipelineSpec
    order: list[str]
    parameters: dict[str, Any]
    state: dict[str, StepState]
    outputs: dict[str, dict[str, Any]]
    attempts: dict[str, int]
    max_attempts: dict[str, int]
    retry_at: dict[str, float] = field(default_factory=dict)
    failed_step: str | None = None
    failure: tuple[str, str | None] | None = None
    # The graph, indexed once: name -> step, -> the steps waiting for it, -> upstream not yet done.
    steps: dict[str, StepSpec] = field(default_factory=dict)
    downstream: dict[str, list[str]] = field(default_factory=dict)
    waiting_on: dict[str, int] = field(default_factory=dict)
    # Pending steps with nothing left to wait for, as (position in ``order``, name).
    ready: list[tuple[int, str]] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)
    upstream: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.steps = {step.name: step for step in self.spec.steps}
        self.position = {name: index for index, name in enumerate(self.order)}
        self.downstream = {name: [] for name in self.order}
        for name in self.order:
            upstream = self.upstream[name] = self.steps[name].upstream()
            for needed in upstream:
                self.downstream[needed].append(name)
            self.waiting_on[name] = sum(self.state[needed] is not StepState.succeeded for needed in upstream)
            if self.waiting_on[name] == 0 and self.state[name] is StepState.pending:
                self.ready.append((self.position[name], name))
        heapq.heapify(self.ready)

    @property
    def db(self) -> Database:
        return self.context.db

    @classmethod
    def load(cls, context: JobContext, runtime: PipelineRuntime) -> Self | None:
        """The run to execute, or ``None`` when it has finished already (a job delivered twice)."""
        run_id = str(context.payload["run_id"])
        with context.db.unit_of_work() as session:
            run = session.get(PipelineRun, run_id)
            if run is None:
                raise PermanentFailure(f"pipeline run {run_id} does not exist")
            if RunState(run.state) in FINISHED_RUN_STATES:
                return None
            version = session.get(PipelineVersion, run.version_id)
            if version is None:
                raise PermanentFailure(f"pipeline run {run_id}: its version is gone")
            spec = PipelineSpec.model_validate(version.spec)
            session.execute(
                update(PipelineRun)
                .where(PipelineRun.id == run_id, PipelineRun.state.in_([RunState.queued, RunState.running]))
                .values(state=RunState.running.value, started_at=run.started_at or utcnow())
            )
            # Resuming after a worker died: what was running when it did runs again.
            session.execute(
                update(PipelineStepRun)
                .where(PipelineStepRun.run_id == run_id, PipelineStepRun.state == StepState.running.value)
                .values(state=StepState.pending.value)
            )
            rows = session.scalars(select(PipelineStepRun).where(PipelineStepRun.run_id == run_id)).all()
            execution = cls(
                context=context,
                runtime=runtime,
                run_id=run_id,
                project_id=run.project_id,
                spec=spec,
                order=spec.check_graph(),
                parameters=dict(run.parameters or {}),
                state={row.name: StepState(row.state) for row in rows},
                outputs={row.name: row.output for row in rows if row.output is not None},
                attempts={row.name: row.attempts for row in rows},
                max_attempts={row.name: row.max_attempts for row in rows},
            )
            resumed = [row.name for row in rows if row.state == StepState.succeeded.value]
        log.info("pipelines.run_started", run_id=run_id, attempt=context.attempt, resumed_steps=resumed)
        return execution

    def _succeeded(self, name: str) -> None:
        self.state[name] = StepState.succeeded
        for waiting in self.downstream[name]:
            self.waiting_on[waiting] -= 1
            if self.waiting_on[waiting] == 0 and self.state[waiting] is StepState.pending:
                heapq.heappush(self.ready, (self.position[waiting], waiting))

    def _stop(self) -> None:
        """Cancel asked: end the run cancelled. A worker that is only stopping leaves it to resume."""
        with self.db.unit_of_work() as session:
            asked = session.scalar(select(Job.cancel_requested_at).where(Job.id == self.context.job_id))
        if asked is not None:
            now = utcnow()
            step_records.skip_unfinished(
                self.db, self.run_id, states=(StepState.pending, StepState.running), now=now
            )
            with self.db.unit_of_work() as session:
                run = session.get(PipelineRun, self.run_id)
                session.execute(
                    update(PipelineRun)
                    .where(PipelineRun.id == self.run_id)
                    .values(state=RunState.cancelled.value, finished_at=now, error="cancelled")
                )
                end_tracking_run(session, run.tracking_run_id if run else None, succeeded=False)
        self.context.raise_if_cancelled()
        raise JobCancelled(f"pipeline run {self.run_id} was asked to stop")  # pragma: no cover

    def _reuse_cached(self, name: str, cache_key: str) -> bool:
        found = step_records.cached_output(
            self.db, run_id=self.run_id, project_id=self.project_id, cache_key=cache_key
        )
        if found is None:
            return False
        source_run, output = found
        step_records.record_cached(self.db, self.run_id, name, source_run=source_run, output=output)
        self.outputs[name] = output
        self._succeeded(name)
        return True

    def _finished(self, name: str, outcome: StepOutcome) -> step_records.Finished:
        """The step's state in memory after ``outcome``; what to record (the caller batches it)."""
        attempt = self.attempts[name]
        retry = not outcome.ok and attempt < self.max_attempts[name]
        state = StepState.succeeded if outcome.ok else StepState.pending if retry else StepState.failed
        lines = list(outcome.log)
        if outcome.error and not outcome.log:
            lines.append(f"{step_records.stamp()} ERROR {outcome.error}")
        if retry:
            delay = self.steps[name].retry_delay * 2 ** (attempt - 1)
            self.retry_at[name] = time.monotonic() + delay
            heapq.heappush(self.ready, (self.position[name], name))
            lines.append(f"{step_records.stamp()} WARNING attempt {attempt} failed; retrying in {delay:g} s")
        text = "".join(f"[attempt {attempt}] {line}\n" for line in lines)
        if outcome.output is not None:
            self.outputs[name] = outcome.output
        if state is StepState.succeeded:
            self._succeeded(name)
        else:
            self.state[name] = state
        if state is not StepState.pending:
            finished_step.record_child_run_of(
                self.db,
                run_id=self.run_id,
                step=self.steps[name],
                parameters=self.parameters,
                outcome=outcome,
                state=state,
                artifact_root_url=self.runtime.store.root_url,
            )
        log.info("pipelines.step_finished", run_id=self.run_id, step=name, state=state.value, attempt=attempt)
        if state is StepState.failed and self.failure is None:
            self.failed_step = name
            self.failure = (outcome.error or "failed", outcome.traceback)
        return step_records.Finished(name, state, outcome, text)

    def _conclude(self, finished: list[step_records.Finished]) -> dict[str, Any]:
        """End the run in one transaction: the last outcomes, the steps never run skipped, its state."""
        now = utcnow()
        failed = self.failure is not None
        error = f"step {self.failed_step} failed: {self.failure[0]}" if self.failure is not None else None
        final = RunState.failed if failed else RunState.succeeded
        with self.db.unit_of_work() as session:
            connection = session.connection()
            step_records.record_outcomes(connection, self.run_id, finished)
            skipped = step_records.skip_unfinished_on(
                connection, self.run_id, states=(StepState.pending,), now=now
            )
            moved = connection.execute(
                update(_runs)
                .where(_runs.c.id == self.run_id, _runs.c.state == RunState.running.value)
                .values(
                    state=final.value,
                    finished_at=now,
                    error=error,
                    traceback=self.failure[1] if self.failure else None,
                )
            ).rowcount
            run = session.get(PipelineRun, self.run_id)
            if moved and run is not None:
                end_tracking_run(session, run.tracking_run_id, succeeded=not failed)
                if failed:
                    self._tell_owners(session, run, error or "failed")
        finished_step.record_lineage(self.db, self.run_id)
        log.info("pipelines.run_finished", run_id=self.run_id, state=final.value, skipped=skipped)
        return {"run_id": self.run_id, "state": final.value, "failed_step": self.failed_step}

    def _tell_owners(self, session: Any, run: PipelineRun, error: str) -> None:
        pipeline = session.get(Pipeline, run.pipeline_id)
        failure_notice.run_failed(
            session,
            project_id=run.project_id,
            pipeline=pipeline.name if pipeline else "?",
            run_id=run.id,
            error=error,
            registered_by=pipeline.created_by_user_id if pipeline else None,
            requested_by=run.created_by_user_id,
            mailer=self.runtime.mailer,
        )
