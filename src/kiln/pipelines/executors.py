"""Where steps execute: ``local`` (a process pool, the default) or ``dask`` (a cluster by address).

The local executor is a pool of processes, not threads, because steps are training code: CPU-bound
Python that threads would serialise on the GIL; a process also lets each step's CPU time and peak
memory be measured on its own, keeps a step that crashes the interpreter (a segfault in a native
library, ``os._exit``) from taking the worker or the server down with it, and can be killed when a
step outlives its timeout, which a thread cannot. Its processes come from a ``forkserver`` (never a
plain ``fork`` of the worker, whose other threads hold locks and database connections): the first
run pays for starting it once, later runs fork from it in milliseconds. The fork server preloads
pandas and pyarrow, so a DataFrame step does not spend seconds importing them (measured: the
first Parquet step 5.5 s without, 0.09 s with). They were once blamed for a hang of Parquet runs;
the cause was a lock taken twice by the step's log capture (``step_process._Capture``).

The processes are the worker's, not a run's (``step_pool``): started by the first step, shared by
every run, ``KILN_PIPELINE_PROCESSES`` of them, stopped with the worker (``close_shared``). A run
has at most as many steps in flight as its ``capacity``; steps of runs beside it queue for the
same processes. Stopping a run's steps (a timeout, a cancel) kills their processes only.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from concurrent.futures import Future
from multiprocessing.context import ForkServerContext
from typing import Protocol

from kiln.pipelines.settings import PipelineSettings
from kiln.pipelines.step_pool import StepPool
from kiln.pipelines.step_process import StepOutcome, StepTask

_context: ForkServerContext = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(
    ["kiln.pipelines.step_pool", "kiln.pipelines.step_process", "pandas", "pyarrow.parquet"]
)
_shared: StepPool | None = None
_shared_lock = threading.Lock()


class Executor(Protocol):
    capacity: int
    # Whether ``submit_chain`` runs a chain's steps back to back in one process.
    chains: bool

    def submit(self, task: StepTask) -> Future[StepOutcome]: ...

    def submit_many(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        """``submit`` each, in order (a cluster takes them in one message)."""

    def submit_chain(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        """Steps to run one after another in one process (only when ``chains``), each taking the
        previous one's output: one future per step; see ``step_pool``."""

    def stop_chains(self, futures: set[Future[StepOutcome]]) -> None:
        """The chains holding these steps end after the step each runs."""

    def stop(self, futures: set[Future[StepOutcome]]) -> None:
        """Stop these steps (they outlived their timeout): their futures fail or are cancelled."""

    def close(self, *, kill: bool = False) -> None:
        """The run is over; ``kill``: stop its steps still in flight (the run was cancelled)."""


def shared_pool(size: int) -> StepPool:
    """The worker's step processes, at least ``size`` of them, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.closed:
            _shared = StepPool(_context, size)
        else:
            _shared.grow(size)
        return _shared


def close_shared() -> None:
    """Stop the worker's step processes (the worker or the app is stopping); the next run starts new ones."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.close()
    dask = sys.modules.get("kiln.pipelines.dask_executor")  # only when a run used it (optional extra)
    if dask is not None:
        dask.close_clients()


class LocalExecutor:
    """A run's window onto the worker's step processes."""

    chains = True

    def __init__(self, pool: StepPool, capacity: int) -> None:
        self.capacity = capacity
        self._pool = pool
        self._in_flight: set[Future[StepOutcome]] = set()
        self._lock = threading.Lock()  # futures settle on the pool's threads

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        return self.submit_chain([task])[0]

    def submit_many(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        return [self.submit(task) for task in tasks]

    def submit_chain(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        futures = self._pool.submit_chain(tasks)
        with self._lock:
            self._in_flight.update(futures)
        for future in futures:
            future.add_done_callback(self._settled)
        return futures

    def stop_chains(self, futures: set[Future[StepOutcome]]) -> None:
        self._pool.stop_chains(futures)

    def _settled(self, future: Future[StepOutcome]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def stop(self, futures: set[Future[StepOutcome]]) -> None:
        self._pool.stop(futures)

    def close(self, *, kill: bool = False) -> None:
        if kill:
            with self._lock:
                in_flight = set(self._in_flight)
            self._pool.stop(in_flight)


def executor_for(settings: PipelineSettings, width: int) -> Executor:
    """The executor ``KILN_PIPELINE_EXECUTOR`` names, for a run of ``width`` parallel steps."""
    if settings.executor == "local":
        return LocalExecutor(shared_pool(settings.processes), width)
    from kiln.pipelines.dask_executor import DaskExecutor  # the optional extra, loaded when named

    return DaskExecutor(settings.executor, width)
