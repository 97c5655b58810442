"""The worker's step processes: started once, shared by every run, one step at a time each.

A run used to get a ``ProcessPoolExecutor`` of its own, and every new pool process paid its start:
a fork from the fork server and, under the ``kiln`` script, a re-import of the whole CLI and app
(1.4-2.2 s measured, per run). These processes live as long as the worker (``kiln worker`` or the
in-process worker of ``kiln server``): the first step starts them, later runs reuse them.

Each slot is one process and one thread of the worker that feeds it over a pipe, so the pool knows
which process runs which step: a step past its timeout, or the steps of a cancelled run, are
stopped by killing their own processes only (the slot starts a fresh one for its next step), never
the steps other runs have running beside them. ``concurrent.futures.ProcessPoolExecutor`` can only
be killed whole, which is why this is not one.

A job is a chain of steps (most often a chain of one): the process runs them back to back, each
taking the previous one's output (``PREVIOUS_OUTPUT``), and sends each outcome the moment it has
it, never waiting for the worker, so the next step of a chain starts without a round trip through
the worker's threads. The chain ends at its last step, at a step that failed, or after the step
running when the worker sent ``STOP_CHAIN`` (the run failed elsewhere, or other runs' steps wait
for a process); the futures of the steps it did not run are cancelled.

A process that dies under its step (a segfault, ``os._exit``, killed) fails that step's future with
``StepProcessDied``; the slot carries on with a new process. The processes are not daemonic (a step
may start processes of its own); each exits when its pipe closes: at ``close``, at the worker's exit,
or when the worker dies.
"""

from __future__ import annotations

import atexit
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess

from kiln.pipelines.step_process import StepOutcome, StepTask, execute_step, with_previous_output

# Sent to a process running a chain: stop after the step it runs (the run failed elsewhere, or
# other runs' steps wait for a process). One that arrives after the chain ended is ignored.
STOP_CHAIN = "stop-chain"


class StepProcessDied(RuntimeError):
    """The process running a step ended before it answered."""


def serve(connection: Connection) -> None:
    """A step process: chains of steps in, each step's outcome out, until the worker closes the pipe."""
    try:
        while True:
            message = connection.recv()
            if isinstance(message, list):  # anything else is a stop that came after its chain ended
                _run_chain(connection, message)
    except (EOFError, OSError, KeyboardInterrupt):  # the worker closed the pipe, or went away
        return


def _run_chain(connection: Connection, tasks: list[StepTask]) -> None:
    """The steps one after another, each outcome sent the moment it is known, never waiting for the
    worker: ``(index, outcome, last)``. The chain ends at its last step, at a step that failed, or
    when the worker asked it to stop (the step running then finishes)."""
    previous: dict[str, object] | None = None
    for index, task in enumerate(tasks):
        outcome = execute_step(with_previous_output(task, previous) if index else task)
        last = index == len(tasks) - 1 or not outcome.ok or _stop_asked(connection)
        connection.send((index, outcome, last))
        if last:
            return
        previous = outcome.output


def _stop_asked(connection: Connection) -> bool:
    if not connection.poll():
        return False
    connection.recv()  # mid-chain the worker sends nothing but STOP_CHAIN
    return True


@dataclass(slots=True)
class _Job:
    """A chain of steps for one process (most often a chain of one), one future per step."""

    tasks: list[StepTask]
    futures: list[Future[StepOutcome]]
    index: int = 0  # the step the process runs
    stop_sent: bool = False


def _settle(future: Future[StepOutcome], outcome: StepOutcome | BaseException) -> None:
    if future.cancelled():  # the run stopped it already (its process is being killed)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _cancel(futures: list[Future[StepOutcome]]) -> None:
    for future in futures:
        future.cancel()


class _Slot:
    """One step process and the thread that hands it chains from the pool's queue.

    Invariant the run's loop relies on: when a chained step's future is done, the next step's is
    decided: running (the process went on to it) or cancelled (the chain ended before it)."""

    def __init__(self, pool: StepPool, number: int) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._current: _Job | None = None
        self._thread = threading.Thread(target=self._loop, name=f"kiln-step-slot-{number}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (job := self._pool.jobs.get()) is not None:
            if not job.futures[0].set_running_or_notify_cancel():
                _cancel(job.futures[1:])
                continue  # cancelled while it waited
            if self._pool.closed:
                _cancel(job.futures[1:])
                job.futures[0].set_exception(StepProcessDied(f"step {job.tasks[0].step}: the worker stopped"))
                continue
            try:
                connection = self._ready_connection()
                with self._lock:
                    self._current = job
                    connection.send(job.tasks)
                self._follow(connection, job)
            except (EOFError, OSError) as exc:  # the process died, or was killed for its step
                self._discard()
                self._fail(
                    job, StepProcessDied(f"step {job.tasks[job.index].step}: {exc or 'process ended'}")
                )
            except BaseException as exc:  # could not start a process: the step fails, the slot lives
                self._discard()
                self._fail(job, exc)
            finally:
                with self._lock:
                    self._current = None
        self._discard()

    def _follow(self, connection: Connection, job: _Job) -> None:
        """The chain's outcomes as they come: each step's future settled, the next marked running."""
        while True:
            index, outcome, last = connection.recv()
            if last:
                _cancel(job.futures[index + 1 :])
            else:
                with self._lock:
                    job.index = index + 1
                started = job.futures[index + 1].set_running_or_notify_cancel()
                if not started or not self._pool.jobs.empty():  # stopped, or other steps wait
                    self._ask_stop(job)
            _settle(job.futures[index], outcome)
            if last:
                return

    def _fail(self, job: _Job, error: BaseException) -> None:
        _cancel(job.futures[job.index + 1 :])  # first: see the invariant
        _settle(job.futures[job.index], error)

    def _ask_stop(self, job: _Job) -> None:
        with self._lock:
            if self._current is job and not job.stop_sent and self._connection is not None:
                job.stop_sent = True
                self._connection.send(STOP_CHAIN)

    def _ready_connection(self) -> Connection:
        with self._lock:
            if self._process is not None and self._process.is_alive() and self._connection is not None:
                return self._connection
        self._discard()
        ours, theirs = self._pool.context.Pipe()
        process = self._pool.context.Process(target=serve, args=(theirs,), name="kiln-step", daemon=False)
        process.start()
        theirs.close()
        with self._lock:
            self._process, self._connection = process, ours
        return ours

    def _discard(self) -> None:
        with self._lock:
            process, connection = self._process, self._connection
            self._process = self._connection = None
        if connection is not None:
            connection.close()  # the process's recv ends: it exits by itself
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()

    def _holds(self, futures: set[Future[StepOutcome]]) -> _Job | None:
        job = self._current
        if job is not None and any(future in futures for future in job.futures[job.index :]):
            return job
        return None

    def stop_if_running(self, futures: set[Future[StepOutcome]]) -> None:
        """Kill this slot's process when the chain it runs has a step still to finish in ``futures``."""
        with self._lock:
            if self._holds(futures) is not None and self._process is not None:
                self._process.kill()

    def stop_chain_of(self, futures: set[Future[StepOutcome]]) -> None:
        """Ask this slot's process to end its chain after the current step, if the chain is one of
        ``futures``'."""
        with self._lock:
            job = self._holds(futures)
        if job is not None:
            self._ask_stop(job)

    def stop_now(self) -> None:
        """Kill whatever step runs here (the worker is stopping: its run resumes elsewhere)."""
        with self._lock:
            if self._current is not None and self._process is not None:
                self._process.kill()

    def join(self) -> None:
        self._thread.join(timeout=10)


class StepPool:
    def __init__(self, context: ForkServerContext, size: int) -> None:
        self.context = context
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self.closed = False
        self.grow(size)
        atexit.register(self.close)

    @property
    def size(self) -> int:
        return len(self._slots)

    def grow(self, size: int) -> None:
        """At least ``size`` slots (a worker whose settings ask for more than it has)."""
        with self._lock:
            while len(self._slots) < size:
                self._slots.append(_Slot(self, len(self._slots)))

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        return self.submit_chain([task])[0]

    def submit_chain(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        """Steps for one process to run back to back, each taking the previous one's output where
        its arguments say ``PREVIOUS_OUTPUT``; one future per step."""
        futures: list[Future[StepOutcome]] = [Future() for _ in tasks]
        if self.closed:
            _cancel(futures[1:])
            futures[0].set_exception(
                StepProcessDied(f"step {tasks[0].step}: the worker's step processes stopped")
            )
        else:
            self.jobs.put(_Job(tasks, futures))
        return futures

    def stop_chains(self, futures: set[Future[StepOutcome]]) -> None:
        """The chains holding these steps end after the step each runs (nothing is killed)."""
        for slot in list(self._slots):
            slot.stop_chain_of(futures)

    def stop(self, futures: set[Future[StepOutcome]]) -> None:
        """Stop these steps: cancelled if they still wait, their processes killed if they run."""
        for future in futures:
            future.cancel()
        for slot in list(self._slots):
            slot.stop_if_running(futures)

    def close(self) -> None:
        """Stop every process: steps still running are killed, steps still queued fail."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            slots = list(self._slots)
        for slot in slots:
            slot.stop_now()
            self.jobs.put(None)
        for slot in slots:
            slot.join()
        while True:  # steps still queued: the slots are gone, so they fail rather than wait forever
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None and job.futures[0].set_running_or_notify_cancel():
                _cancel(job.futures[1:])
                job.futures[0].set_exception(StepProcessDied(f"step {job.tasks[0].step}: the worker stopped"))
        atexit.unregister(self.close)
