"""The worker: claims jobs of the registered kinds and runs their handlers on a thread pool.

One loop thread claims (as many jobs as there are free slots) and then waits on an event: a
finished job, a commit in this process that queued a job, or the poll interval wakes it, so an idle
worker costs one claim query per poll and never spins. One heartbeat thread extends the leases of
every running job in one statement per beat, and tells handlers to stop when someone asked to
cancel their job, when the lease was lost or when the kind's timeout passed.

The claim loop also ticks the scheduler (``kiln.jobs.scheduler``) every ``schedule_seconds``: every
worker fires due schedules, and the database lets only one of them take each fire, so schedules
need no process of their own and keep firing while any worker runs.

``stop()`` is graceful: the worker claims nothing more, lets running handlers finish for
``grace_seconds``, then gives back (releases) the jobs still running, so another worker starts
them without waiting for a lease to expire. Python cannot kill a thread: a handler that ignores
``context.stop`` runs on, but whatever it returns is dropped (the job is no longer its attempt's).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import structlog

from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.jobs import outcomes, queue, scheduler
from kiln.jobs.context import JobCancelled, JobContext, PermanentFailure
from kiln.jobs.kinds import JobKind, find_job_kind, registered_kinds
from kiln.jobs.queue import ClaimedJob
from kiln.jobs.schemas import AttemptOutcome
from kiln.jobs.settings import WorkerSettings

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def new_worker_id() -> str:
    return f"{socket.gethostname()[:64]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(slots=True)
class _Running:
    job: ClaimedJob
    kind: JobKind
    context: JobContext
    started: datetime
    # Why the worker told the handler to stop: "cancel", "lost", "timeout" or "stopping".
    stop_reason: str | None = None


class Worker:
    def __init__(
        self,
        db: Database,
        *,
        kinds: Sequence[str] | None = None,
        concurrency: int = 1,
        poll_seconds: float = 1.0,
        lease_seconds: float = 30.0,
        heartbeat_seconds: float | None = None,
        grace_seconds: float = 10.0,
        worker_id: str | None = None,
        clock: Clock = utcnow,
        schedule_seconds: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("a worker runs at least one job at a time")
        self.db = db
        self.worker_id = worker_id or new_worker_id()
        # None: every kind registered when the worker starts (domains register theirs at app start).
        self._kinds = list(kinds) if kinds is not None else None
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds or lease_seconds / 3
        self.grace_seconds = grace_seconds
        self.clock = clock
        # None: this worker fires no schedules (others do, or tests tick by hand).
        self.schedule_seconds = schedule_seconds
        self._last_tick: float | None = None
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None

    @property
    def kinds(self) -> list[str]:
        return self._kinds if self._kinds is not None else registered_kinds()

    def running_jobs(self) -> list[str]:
        with self._lock:
            return list(self._running)

    def wake(self) -> None:
        """Claim now rather than at the next poll."""
        self._wake.set()

    # -- running in the background ---------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="kiln-job")
        self._threads = [
            threading.Thread(target=self._claim_loop, name="kiln-worker", daemon=True),
            threading.Thread(target=self._heartbeat_loop, name="kiln-heartbeat", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        queue.listen_for_enqueued(self.wake)
        log.info("jobs.worker_started", worker=self.worker_id, kinds=self.kinds, concurrency=self.concurrency)

    def stop(self, grace_seconds: float | None = None) -> None:
        """Claim nothing more; wait for running jobs, then release those still running."""
        queue.stop_listening(self.wake)
        self._stopping.set()
        self._wake.set()
        grace = self.grace_seconds if grace_seconds is None else grace_seconds
        with self._changed:
            self._changed.wait_for(lambda: not self._running, timeout=grace)
            left = list(self._running.values())
            for running in left:
                running.stop_reason = "stopping"
                running.context.stop.set()
        for running in left:
            self._release(running)
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        log.info("jobs.worker_stopped", worker=self.worker_id, released=len(left))

    def _release(self, running: _Running) -> None:
        released = self._record(
            lambda: outcomes.release(self.db, running.job, self.worker_id, now=self.clock())
        )
        log.info("jobs.released", job_id=running.job.id, kind=running.job.kind, released=bool(released))

    def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._tick_schedules_when_due()
            self._claim_and_launch()
            self._wake.wait(self.poll_seconds)

    def _tick_schedules_when_due(self) -> None:
        if self.schedule_seconds is None:
            return
        started = time.monotonic()
        if self._last_tick is not None and started - self._last_tick < self.schedule_seconds:
            return
        self._last_tick = started
        self.tick_schedules()

    def tick_schedules(self) -> scheduler.Fired:
        """Fire the schedules due by this worker's clock (the loop calls it; tests may too)."""
        try:
            return scheduler.fire_due_schedules(self.db, now=self.clock())
        except Exception:  # the database is away: say so, and tick again next time
            log.exception("jobs.schedule_tick_failed", worker=self.worker_id)
            return scheduler.Fired()

    def _claim_and_launch(self) -> None:
        with self._lock:
            free = self.concurrency - len(self._running)
        if free < 1:
            return
        try:
            claimed = queue.claim(
                self.db,
                self.worker_id,
                kinds=self.kinds,
                limit=free,
                lease_seconds=self.lease_seconds,
                now=self.clock(),
            )
        except Exception:  # the database is away: say so, and try again at the next poll
            log.exception("jobs.claim_failed", worker=self.worker_id)
            return
        for job in claimed:
            running = self._track(job)
            if running is not None and self._pool is not None:
                self._pool.submit(self._run_tracked, running)

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(self.heartbeat_seconds):
            self.beat()

    def beat(self) -> None:
        """One heartbeat for every running job (the heartbeat thread calls it; tests may too)."""
        now = self.clock()
        with self._lock:
            running = dict(self._running)
        beating = [job_id for job_id, r in running.items() if r.stop_reason not in ("lost", "timeout")]
        try:
            answer = queue.heartbeat(
                self.db, self.worker_id, beating, lease_seconds=self.lease_seconds, now=now
            )
        except Exception:
            log.exception("jobs.heartbeat_failed", worker=self.worker_id)
            return
        for job_id, state in running.items():
            if state.stop_reason in ("lost", "timeout"):
                continue  # no longer this worker's job
            if job_id in answer.lost:
                self._tell_stop(state, "lost")
            elif job_id in answer.cancel_requested:
                self._tell_stop(state, "cancel")
            elif (
                state.kind.timeout is not None and (now - state.started).total_seconds() > state.kind.timeout
            ):
                self._time_out(state, now)

    def _tell_stop(self, running: _Running, reason: str) -> None:
        if running.stop_reason is None or reason == "lost":
            running.stop_reason = reason
        running.context.stop.set()
        log.info("jobs.stop_asked", job_id=running.job.id, kind=running.job.kind, reason=reason)

    def _time_out(self, running: _Running, now: datetime) -> None:
        self._tell_stop(running, "timeout")
        message = f"timed out after {running.kind.timeout:g} s"
        self._record(
            lambda: outcomes.fail(
                self.db,
                running.job,
                self.worker_id,
                error=message,
                traceback=None,
                retry_in=running.kind.backoff.delay(running.job.attempt),
                outcome=AttemptOutcome.timed_out,
                now=now,
            )
        )

    # -- running in the caller's thread ----------------------------------------------------------

    def run_pending(self, *, limit: int | None = None) -> int:
        """Claim and run due jobs one at a time in this thread until none is due (or ``limit`` ran);
        the number run. For tests and one-shot tools: no threads, the clock decides what is due."""
        ran = 0
        while limit is None or ran < limit:
            claimed = queue.claim(
                self.db,
                self.worker_id,
                kinds=self.kinds,
                limit=1,
                lease_seconds=self.lease_seconds,
                now=self.clock(),
            )
            if not claimed:
                break
            running = self._track(claimed[0])
            if running is not None:
                self._run_tracked(running)
            ran += 1
        return ran

    # -- one job -------------------------------------------------------------------------------

    def _track(self, job: ClaimedJob) -> _Running | None:
        kind = find_job_kind(job.kind)
        if kind is None:  # claimed by kind, so only if someone unregistered it meanwhile
            log.error("jobs.kind_vanished", job_id=job.id, kind=job.kind)
            return None
        context = JobContext(
            job_id=job.id,
            kind=job.kind,
            payload=job.payload,
            attempt=job.attempt,
            project_id=job.project_id,
            db=self.db,
        )
        running = _Running(job, kind, context, started=self.clock())
        with self._lock:
            self._running[job.id] = running
        return running

    def _run_tracked(self, running: _Running) -> None:
        job = running.job
        structlog.contextvars.bind_contextvars(job_id=job.id, job_kind=job.kind)
        try:
            self._run(running)
        finally:
            structlog.contextvars.unbind_contextvars("job_id", "job_kind")
            with self._changed:
                self._running.pop(job.id, None)
                self._changed.notify_all()
            self._wake.set()

    def _run(self, running: _Running) -> None:
        job, kind = running.job, running.kind
        log.info("jobs.started", attempt=job.attempt)
        try:
            result = kind.handler(running.context)
        except JobCancelled as exc:
            if running.stop_reason == "stopping":
                return  # stop() releases it
            self._failed(running, exc, retry=False, outcome=AttemptOutcome.cancelled)
        except PermanentFailure as exc:
            self._failed(running, exc, retry=False)
        except Exception as exc:
            self._failed(running, exc, retry=True)
        else:
            if running.stop_reason in ("lost", "timeout", "stopping"):
                log.warning("jobs.result_dropped", reason=running.stop_reason)
                return
            recorded = self._record(
                lambda: outcomes.succeed(self.db, job, self.worker_id, result, now=self.clock())
            )
            log.info("jobs.succeeded", recorded=bool(recorded))

    def _failed(
        self,
        running: _Running,
        exc: BaseException,
        *,
        retry: bool,
        outcome: AttemptOutcome = AttemptOutcome.failed,
    ) -> None:
        job, kind = running.job, running.kind
        if running.stop_reason in ("lost", "timeout", "stopping"):
            log.warning("jobs.failure_dropped", reason=running.stop_reason, error=str(exc))
            return
        error = f"{type(exc).__name__}: {exc}"
        state = self._record(
            lambda: outcomes.fail(
                self.db,
                job,
                self.worker_id,
                error=error,
                traceback="".join(traceback.format_exception(exc)),
                retry_in=kind.backoff.delay(job.attempt) if retry else None,
                outcome=outcome,
                now=self.clock(),
            )
        )
        log.warning("jobs.failed", attempt=job.attempt, error=error, state=str(state) if state else None)

    def _record(self, write: Callable[[], object]) -> object:
        """Write an outcome; if the database is away, log it: the lease expires and the job runs again."""
        try:
            return write()
        except Exception:
            log.exception("jobs.outcome_not_recorded", worker=self.worker_id)
            return None


def worker_from_settings(db: Database, settings: WorkerSettings) -> Worker:
    return Worker(
        db,
        concurrency=settings.concurrency,
        poll_seconds=settings.poll_seconds,
        lease_seconds=settings.lease_seconds,
        grace_seconds=settings.grace_seconds,
        schedule_seconds=settings.schedule_seconds if settings.schedules else None,
    )
