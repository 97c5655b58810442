"""The ``dask`` executor: steps on a ``dask.distributed`` cluster given by address.

The same ``execute_step`` runs on a Dask worker as in a local pool process: it reads its inputs from
the artifact store and writes its output there, so the store must be one every worker reaches (S3,
or a shared folder). Each Dask future is bridged to a ``concurrent.futures.Future`` so the run's
loop waits on both executors alike. ``pure=False``: a retried step is a new task, never Dask's
memoised result of the failed one.

One client per scheduler address for the worker's life (``close_clients`` when it stops): a
``Client`` connecting per run cost more than the run's tasks on a local cluster.

A step past its timeout is cancelled on the cluster; Dask cannot interrupt Python code already
running on a worker, so that task finishes (or not) on its own while the run moves on.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from distributed import Client

from kiln.pipelines.step_process import StepOutcome, StepTask, execute_step

_clients: dict[str, Client] = {}
_clients_lock = threading.Lock()


def _client(address: str) -> Client:
    # "dask://host:8786" names the scheduler "tcp://host:8786".
    target = "tcp://" + address.removeprefix("dask://") if address.startswith("dask://") else address
    with _clients_lock:
        client = _clients.get(target)
        if client is None or client.status not in ("running", "connecting"):
            client = _clients[target] = Client(target, set_as_default=False, timeout=30)
        return client


def close_clients() -> None:
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


class DaskExecutor:
    # A cluster places each task itself: a chain's steps are submitted one by one by the run.
    chains = False

    def __init__(self, address: str, capacity: int) -> None:
        self.capacity = capacity
        self._client = _client(address)
        self._running: dict[Future[StepOutcome], Any] = {}  # bridged -> the Dask future
        self._lock = threading.Lock()  # futures settle on the client's event loop thread

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        return self.submit_many([task])[0]

    def submit_many(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        """One message to the scheduler for all of them (as ``client.map``), not one per step."""
        remotes = self._client.map(
            execute_step,
            tasks,
            pure=False,
            key=[f"kiln-step-{task.step}-{task.output_key}" for task in tasks],
        )
        return [self._bridge(remote) for remote in remotes]

    def submit_chain(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        if len(tasks) != 1:
            raise ValueError("the dask executor runs no chains: submit each step")
        return self.submit_many(tasks)

    def stop_chains(self, futures: set[Future[StepOutcome]]) -> None:
        """Nothing to stop: no chains here."""

    def _bridge(self, remote: Any) -> Future[StepOutcome]:
        bridged: Future[StepOutcome] = Future()
        bridged.set_running_or_notify_cancel()
        with self._lock:
            self._running[bridged] = remote

        def settle(done: Any) -> None:
            with self._lock:
                self._running.pop(bridged, None)
            try:
                bridged.set_result(done.result())
            except BaseException as exc:  # the worker died, or the task was cancelled
                bridged.set_exception(exc)

        remote.add_done_callback(settle)
        return bridged

    def stop(self, futures: set[Future[StepOutcome]]) -> None:
        with self._lock:
            late = [remote for bridged, remote in self._running.items() if bridged in futures]
        if late:
            self._client.cancel(late, force=True)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            running = list(self._running.values())
        if kill and running:
            self._client.cancel(running, force=True)
