"""Background metric delivery: ``log_metric`` only appends to memory; a daemon thread ships batches.

A training loop therefore never waits on the network. Batches go out every ``interval`` seconds, or
sooner when ``max_batch`` points are waiting. ``flush`` sends whatever is left from the caller's thread
(so it works even at interpreter exit) and raises the first error the sender met.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from kiln.client.api import Client

DEFAULT_INTERVAL_SECONDS = 0.2
DEFAULT_MAX_BATCH = 10_000


class MetricSender:
    def __init__(
        self,
        client: Client,
        run_id: str,
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.interval = interval
        self.max_batch = max_batch
        self._pending: collections.deque[dict[str, Any]] = collections.deque()
        self._wake = threading.Condition()
        # Held while a batch is in flight, so batches from the thread and from flush() never interleave.
        self._sending = threading.Lock()
        self._error: Exception | None = None
        self._lost = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=f"kiln-metrics-{run_id[-8:]}", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, record: dict[str, Any]) -> None:
        with self._wake:
            self._pending.append(record)
            if len(self._pending) == self.max_batch:
                self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: self._stopped or len(self._pending) >= self.max_batch, timeout=self.interval
                )
                if self._stopped:
                    return
            self._drain()

    def _take(self) -> list[dict[str, Any]]:
        with self._wake:
            count = min(len(self._pending), self.max_batch)
            return [self._pending.popleft() for _ in range(count)]

    def _drain(self) -> None:
        with self._sending:
            while batch := self._take():
                try:
                    self.client.log_batch(self.run_id, metrics=batch)
                except Exception as exc:  # kept and raised by flush(): the training loop must not die here
                    self._lost += len(batch)
                    if self._error is None:
                        self._error = exc

    def flush(self) -> None:
        """Send everything buffered; raise the first error met since the last flush."""
        self._drain()
        error, lost = self._error, self._lost
        self._error, self._lost = None, 0
        if error is not None:
            error.add_note(f"kiln: {lost} metric point(s) of run {self.run_id} could not be stored")
            raise error

    def close(self) -> None:
        """Stop the thread, then flush what is left (raising any delivery error)."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)
        self.flush()
