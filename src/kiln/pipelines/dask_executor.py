"""The ``dask`` executor: steps on a ``dask.distributed`` cluster given by address.

The same ``execute_step`` runs on a Dask worker as in a local pool process: it reads its inputs from
the artifact store and writes its output there, so the store must be one every worker reaches (S3,
or a shared folder). Each Dask future is bridged to a ``concurrent.futures.Future`` so the run's
loop waits on both executors alike. ``pure=False``: a retried step is a new task, never Dask's
memoised result of the failed one.

One client per scheduler address for the worker's life (``close_clients`` when it stops): a
``Client`` connecting per run cost more than the run's tasks on a local cluster.

Outcomes are fetched in batches, on the client's event loop: the tasks of one ``submit_many`` are
watched by one ``distributed.as_completed``, and every task that has finished when it wakes is
fetched with one ``gather`` (one request to the scheduler, one per worker from it). A callback per
future calling ``result()`` cost a blocking round trip per step on Dask's one callback thread and
made a 20-step fan-out 3-4x slower than raw ``client.map`` (docs/benchmarks.md, "Pipelines").

A step past its timeout is cancelled on the cluster; Dask cannot interrupt Python code already
running on a worker, so that task finishes (or not) on its own while the run moves on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import CancelledError, Future
from typing import Any

import structlog
from distributed import Client, as_completed

from kiln.pipelines.step_process import StepOutcome, StepTask, execute_step

log = structlog.get_logger(__name__)

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
        self._running: dict[Any, tuple[Any, Future[StepOutcome]]] = {}  # Dask key -> (remote, bridged)
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
        bridged: list[Future[StepOutcome]] = []
        with self._lock:
            for remote in remotes:
                future: Future[StepOutcome] = Future()
                future.set_running_or_notify_cancel()
                self._running[remote.key] = (remote, future)
                bridged.append(future)
        loop = self._client.loop
        if loop is None:  # pragma: no cover - a connected client always has its loop
            raise RuntimeError("the Dask client has no event loop")
        loop.add_callback(self._settle_all, remotes)
        return bridged

    def submit_chain(self, tasks: list[StepTask]) -> list[Future[StepOutcome]]:
        if len(tasks) != 1:
            raise ValueError("the dask executor runs no chains: submit each step")
        return self.submit_many(tasks)

    def stop_chains(self, futures: set[Future[StepOutcome]]) -> None:
        """Nothing to stop: no chains here."""

    async def _settle_all(self, remotes: list[Any]) -> None:
        """On the client's loop: settle each bridged future as its task ends, a batch at a time."""
        try:
            finished = as_completed(remotes, loop=self._client.loop)
            async for first in finished:
                await self._settle([first, *finished.next_batch(block=False)])
        except BaseException as exc:  # never leave the run's loop waiting on a future nobody settles
            log.warning("pipelines.dask_settle_failed", error=repr(exc))
            self._fail(remotes, exc)

    async def _settle(self, batch: list[Any]) -> None:
        done = [remote for remote in batch if remote.status == "finished"]
        if done:
            try:
                outcomes = await self._client.gather(done, asynchronous=True)
            except Exception:  # one of them was lost on the way: fetch each on its own
                for remote in done:
                    await self._settle_one(remote)
            else:
                for remote, outcome in zip(done, outcomes, strict=True):
                    self._deliver(remote, outcome, None)
        for remote in batch:
            if remote.status == "error":  # the worker died under it (KilledWorker), or it failed to run
                self._deliver(remote, None, await remote.exception(asynchronous=True))
            elif remote.status != "finished":  # cancelled: a timeout, a cancelled run
                self._deliver(remote, None, CancelledError(f"dask task {remote.key} was {remote.status}"))

    async def _settle_one(self, remote: Any) -> None:
        try:
            [outcome] = await self._client.gather([remote], asynchronous=True)
        except Exception as exc:
            self._deliver(remote, None, exc)
        else:
            self._deliver(remote, outcome, None)

    def _deliver(self, remote: Any, outcome: StepOutcome | None, error: BaseException | None) -> None:
        with self._lock:
            entry = self._running.pop(remote.key, None)
        if entry is None:  # settled already
            return
        bridged = entry[1]
        if error is None:
            bridged.set_result(outcome)  # type: ignore[arg-type]
        else:
            bridged.set_exception(error)

    def _fail(self, remotes: Iterable[Any], error: BaseException) -> None:
        for remote in remotes:
            self._deliver(remote, None, error)

    def stop(self, futures: set[Future[StepOutcome]]) -> None:
        with self._lock:
            late = [remote for remote, bridged in self._running.values() if bridged in futures]
        if late:
            self._client.cancel(late, force=True)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            running = [remote for remote, _ in self._running.values()]
        if kill and running:
            self._client.cancel(running, force=True)
