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

from kiln.pipelines.step_process import StepOutcome, StepTask, execute_step


class StepProcessDied(RuntimeError):
    """The process running a step ended before it answered."""


def serve(connection: Connection) -> None:
    """A step process: steps in, outcomes out, until the worker closes the pipe."""
    try:
        while True:
            connection.send(execute_step(connection.recv()))
    except (EOFError, OSError, KeyboardInterrupt):  # the worker closed the pipe, or went away
        return


@dataclass(slots=True)
class _Job:
    task: StepTask
    future: Future[StepOutcome]


class _Slot:
    """One step process and the thread that hands it steps from the pool's queue."""

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
            if not job.future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            if self._pool.closed:
                job.future.set_exception(StepProcessDied(f"step {job.task.step}: the worker stopped"))
                continue
            try:
                connection = self._ready_connection()
                with self._lock:
                    self._current = job
                connection.send(job.task)
                outcome = connection.recv()
            except (EOFError, OSError) as exc:  # the process died, or was killed for its step
                self._discard()
                job.future.set_exception(StepProcessDied(f"step {job.task.step}: {exc or 'process ended'}"))
            except BaseException as exc:  # could not start a process: the step fails, the slot lives
                self._discard()
                job.future.set_exception(exc)
            else:
                job.future.set_result(outcome)
            finally:
                with self._lock:
                    self._current = None
        self._discard()

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

    def stop_if_running(self, futures: set[Future[StepOutcome]]) -> None:
        """Kill this slot's process when the step it runs is one of ``futures``."""
        with self._lock:
            if self._current is not None and self._current.future in futures and self._process is not None:
                self._process.kill()

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
        future: Future[StepOutcome] = Future()
        if self.closed:
            future.set_exception(StepProcessDied(f"step {task.step}: the worker's step processes stopped"))
        else:
            self.jobs.put(_Job(task, future))
        return future

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
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(StepProcessDied(f"step {job.task.step}: the worker stopped"))
        atexit.unregister(self.close)
