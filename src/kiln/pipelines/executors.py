"""Where steps execute: ``local`` (a process pool, the default) or ``dask`` (a cluster by address).

The local executor is a pool of processes, not threads, because steps are training code: CPU-bound
Python that threads would serialise on the GIL; a process also lets each step's CPU time and peak
memory be measured on its own, keeps a step that crashes the interpreter (a segfault in a native
library, ``os._exit``) from taking the worker or the server down with it, and can be killed when a
step outlives its timeout, which a thread cannot. Its processes come from a ``forkserver`` (never a
plain ``fork`` of the worker, whose other threads hold locks and database connections): the first
run pays for starting it once, later runs fork from it in milliseconds. The fork server preloads
only Kiln's step module; pandas and pyarrow load in a step's process when a step uses them.

One pool per pipeline run, sized to the run's parallelism (``KILN_PIPELINE_PROCESSES``), shut
down when the run ends.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Protocol

from kiln.pipelines.settings import PipelineSettings
from kiln.pipelines.step_process import StepOutcome, StepTask, execute_step

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["kiln.pipelines.step_process"])


class Executor(Protocol):
    capacity: int

    def submit(self, task: StepTask) -> Future[StepOutcome]: ...

    def restart(self) -> None:
        """Stop every step running now (one outlived its timeout): their futures fail."""

    def close(self, *, kill: bool = False) -> None: ...


class LocalExecutor:
    def __init__(self, processes: int) -> None:
        self.capacity = processes
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.capacity, mp_context=_context)

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        return self._pool.submit(execute_step, task)

    def restart(self) -> None:
        # A pool process cannot be stopped alone: the pool goes, and a fresh one takes its place.
        self.close(kill=True)
        self._pool = self._new_pool()

    def close(self, *, kill: bool = False) -> None:
        if kill:
            # A step past its timeout, or a run cancelled: its processes are stopped, not awaited.
            # (ProcessPoolExecutor has no public way to do this before Python 3.14.)
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=not kill, cancel_futures=True)


def executor_for(settings: PipelineSettings, width: int) -> Executor:
    """The executor ``KILN_PIPELINE_EXECUTOR`` names, for a run of ``width`` parallel steps."""
    if settings.executor == "local":
        return LocalExecutor(width)
    from kiln.pipelines.dask_executor import DaskExecutor  # the optional extra, loaded when named

    return DaskExecutor(settings.executor, width)
