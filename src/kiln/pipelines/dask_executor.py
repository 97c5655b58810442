"""The ``dask`` executor: steps on a ``dask.distributed`` cluster given by address.

The same ``execute_step`` runs on a Dask worker as in a local pool process: it reads its inputs from
the artifact store and writes its output there, so the store must be one every worker reaches (S3,
or a shared folder). Each Dask future is bridged to a ``concurrent.futures.Future`` so the run's
loop waits on both executors alike. ``pure=False``: a retried step is a new task, never Dask's
memoised result of the failed one.

A step past its timeout is cancelled on the cluster; Dask cannot interrupt Python code already
running on a worker, so that task finishes (or not) on its own while the run moves on.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from distributed import Client

from kiln.pipelines.step_process import StepOutcome, StepTask, execute_step


class DaskExecutor:
    def __init__(self, address: str, capacity: int) -> None:
        self.capacity = capacity
        # "dask://host:8786" names the scheduler "tcp://host:8786".
        target = "tcp://" + address.removeprefix("dask://") if address.startswith("dask://") else address
        self._client = Client(target, set_as_default=False, timeout=30)
        self._running: set[Any] = set()

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        bridged: Future[StepOutcome] = Future()
        remote = self._client.submit(
            execute_step, task, pure=False, key=f"kiln-step-{task.step}-{task.output_key}"
        )
        self._running.add(remote)

        def settle(done: Any) -> None:
            self._running.discard(done)
            try:
                bridged.set_result(done.result())
            except BaseException as exc:  # the worker died, or the task was cancelled
                bridged.set_exception(exc)

        remote.add_done_callback(settle)
        return bridged

    def restart(self) -> None:
        self._client.cancel(list(self._running), force=True)

    def close(self, *, kill: bool = False) -> None:
        if kill and self._running:
            self._client.cancel(list(self._running), force=True)
        self._client.close()
