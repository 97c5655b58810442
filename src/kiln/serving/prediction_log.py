"""The prediction log's writer: the request path appends, a background thread writes in batches.

``PredictionLogger.append(record)`` is what a predict route calls after answering. It does no I/O
and never waits on the database: a sampling decision, the record made a row (a tuple, its time in
the column's form: ``kiln.serving.prediction_rows``), one uncontended lock around a list append, and
back to the caller (a few microseconds; ``bench/prediction_log.py``). The row is made here rather
than by the flusher because the flusher shares the GIL with the serving loop: every bit of Python it
runs per record is time a request may wait for. A flusher thread wakes every ``flush_interval_ms``
or as soon as ``batch_size`` records wait, takes the whole queue in one swap and writes it in
multi-row INSERTs (beside a busy event loop a per-row executemany took a hundred times as long, the
loop paying for each row). After a flush of many megabytes (logged 1,000-row batches) freed memory
is handed back to the system (``kiln.core.memory``).

When the queue is full (``queue_size`` records, or ``queue_bytes`` of their text: the database is
slower than the traffic, or down) a record is dropped,
counted (``dropped``, ``kiln_prediction_log_dropped_total``) and a warning is logged at most once
per ``warn_interval_s``: a request is never made to wait for its log line. ``close()`` (the app's
lifespan calls it) stops the flusher and writes everything still queued: nothing is lost on a clean
shutdown. A batch the database refuses as a whole (a duplicate request id) is written row by row,
so one bad record costs only itself; a database that cannot be reached keeps the batch queued.

Predictions are telemetry, not audited (docs/serving.md): the log is the record.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from kiln.core.db import Database
from kiln.core.memory import release_free_memory
from kiln.serving.deployment_metrics import DeploymentMetrics
from kiln.serving.prediction_record import PredictionRecord
from kiln.serving.prediction_rows import PredictionRows, finished, insert_predictions, row_text_bytes
from kiln.serving.settings import PredictionLogSettings

log = structlog.get_logger(__name__)

# Statuses kept whatever the sampling fraction: every failure is worth its row.
_ALWAYS_KEPT = frozenset({"invalid", "error"})
_RETRIES_ON_CLOSE = 3
# After a flush that wrote this much text, freed memory is handed back to the system: the logged
# text of large batches is most of what a serving process allocates, and the C library keeps what
# was freed (a process had grown by 60-130 MB after a few seconds of 1,000-row batches).
_RELEASE_AFTER_BYTES = 8 * 2**20


class _Metrics:
    def __init__(self, registry: CollectorRegistry | None, depth: Any) -> None:
        self.written = Counter(
            "kiln_prediction_log_written_total", "Prediction log records written", registry=registry
        )
        self.dropped = Counter(
            "kiln_prediction_log_dropped_total",
            "Prediction log records dropped because the queue was full",
            registry=registry,
        )
        self.failed = Counter(
            "kiln_prediction_log_failed_total",
            "Prediction log records the database refused",
            registry=registry,
        )
        self.depth = Gauge(
            "kiln_prediction_log_queue_depth", "Prediction log records waiting", registry=registry
        )
        self.depth.set_function(depth)
        self.deployments = DeploymentMetrics(registry)


class PredictionLogger:
    def __init__(
        self,
        db: Database,
        settings: PredictionLogSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        warn_interval_s: float = 10.0,
    ) -> None:
        self.db = db
        self.settings = settings or PredictionLogSettings()
        self._sample = self.settings.sample
        self._batch_size = self.settings.batch_size
        self._queue_size = self.settings.queue_size
        self._queue_bytes = self.settings.queue_bytes
        # The text the queued rows hold (``row_text_bytes``), kept beside the list under its lock.
        self._queued_bytes = 0
        self._interval = self.settings.flush_interval_ms / 1000
        self._warn_interval = warn_interval_s
        # Rows (``PredictionRows.row``), swapped out whole by the writer.
        self._items: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        # One writer at a time: the flusher thread, or a caller of flush()/close().
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dropped = 0
        self._dropped_reported = 0
        self._last_warning = 0.0
        self.written = 0
        self.failed = 0
        self._metrics = _Metrics(registry, lambda: len(self._items))
        self._rows = PredictionRows(db.engine.dialect)

    # -- the request path -------------------------------------------------------------------

    def append(self, record: PredictionRecord) -> bool:
        """Queue ``record`` for writing; ``False`` when it was sampled out or dropped (queue full).

        No I/O, no waiting: safe from any thread and from async code.
        """
        self._metrics.deployments.observe(record.deployment, record.status, record.latency_ms)
        if self._sample < 1.0 and record.status not in _ALWAYS_KEPT and random.random() >= self._sample:
            return False
        entry = self._rows.row(record, time.time())
        size = row_text_bytes(entry)
        with self._lock:
            items = self._items
            if len(items) >= self._queue_size or (items and self._queued_bytes + size > self._queue_bytes):
                self._dropped += 1
                return False
            items.append(entry)
            self._queued_bytes += size
            waiting = len(items)
        if waiting == self._batch_size:
            self._wake.set()
        return True

    # -- what operators read ----------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Records dropped because the queue was full, since the logger was made."""
        return self._dropped

    @property
    def pending(self) -> int:
        """Records queued and not written yet."""
        return len(self._items)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the flusher thread (again after ``close``); a running one is left alone."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kiln-prediction-log", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        """Write everything queued now, in this thread; returns how many records were written."""
        with self._write_lock:
            return self._drain()

    def close(self) -> None:
        """Stop the flusher and write every queued record (a clean shutdown loses nothing)."""
        thread, self._thread = self._thread, None
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join()
        with self._write_lock:
            for attempt in range(_RETRIES_ON_CLOSE):
                try:
                    self._drain(raise_unreachable=True)
                    break
                except (OperationalError, InterfaceError):
                    if attempt == _RETRIES_ON_CLOSE - 1:
                        lost = self._discard_all()
                        log.error("serving.prediction_log_lost_on_close", records=lost)
                    else:
                        time.sleep(0.5)
        self._report_drops(force=True)

    # -- the flusher ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return  # close() drains what is left
            with self._write_lock:
                try:
                    self._drain()
                except Exception:
                    # The flusher must outlive any one failure, or the queue would only grow.
                    log.exception("serving.prediction_log_flush_failed")
            self._report_drops()

    def _drain(self, *, raise_unreachable: bool = False) -> int:
        with self._lock:
            taken, self._items = self._items, []
            taken_bytes, self._queued_bytes = self._queued_bytes, 0
        try:
            return self._write_all(taken, raise_unreachable=raise_unreachable)
        finally:
            if taken_bytes >= _RELEASE_AFTER_BYTES:
                release_free_memory()

    def _write_all(self, taken: list[tuple[Any, ...]], *, raise_unreachable: bool) -> int:
        written = 0
        for start in range(0, len(taken), self._batch_size):
            chunk = taken[start : start + self._batch_size]
            try:
                written += self._write(chunk)
            except (OperationalError, InterfaceError) as exc:
                # The database is unreachable or busy: keep what is left, in order, for the next try.
                self._requeue(taken[start:])
                if raise_unreachable:
                    raise
                log.warning("serving.prediction_log_database_unavailable", error=str(exc), kept=len(taken))
                time.sleep(min(self._interval * 5, 2.0))
                break
        return written

    def _write(self, chunk: list[tuple[Any, ...]]) -> int:
        rows = finished(chunk)
        try:
            self._insert(rows)
        except (OperationalError, InterfaceError):
            raise
        except DBAPIError:
            # One row the database refuses (a request id logged twice) must not cost the batch.
            return self._write_one_by_one(rows)
        self.written += len(rows)
        self._metrics.written.inc(len(rows))
        return len(rows)

    def _write_one_by_one(self, rows: list[tuple[Any, ...]]) -> int:
        written = 0
        for row in rows:
            try:
                self._insert([row])
                written += 1
            except (OperationalError, InterfaceError):
                raise
            except DBAPIError as exc:
                self.failed += 1
                self._metrics.failed.inc()
                log.error("serving.prediction_log_row_refused", request_id=row[0], error=str(exc.orig))
        self.written += written
        self._metrics.written.inc(written)
        return written

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        with self.db.unit_of_work() as session:
            insert_predictions(session, rows)

    def _requeue(self, entries: list[tuple[Any, ...]]) -> None:
        with self._lock:
            room = max(self._queue_size - len(self._items), 0)
            kept = entries[:room]
            self._dropped += len(entries) - len(kept)
            self._items[:0] = kept
            self._queued_bytes += sum(map(row_text_bytes, kept))

    def _discard_all(self) -> int:
        with self._lock:
            lost, self._items = len(self._items), []
            self._queued_bytes = 0
            self._dropped += lost
        return lost

    def _report_drops(self, *, force: bool = False) -> None:
        dropped = self._dropped
        new = dropped - self._dropped_reported
        if new <= 0:
            return
        self._metrics.dropped.inc(new)
        self._dropped_reported = dropped
        now = time.monotonic()
        if force or now - self._last_warning >= self._warn_interval:
            self._last_warning = now
            log.warning(
                "serving.prediction_log_dropped",
                dropped=new,
                dropped_total=dropped,
                queue_size=self._queue_size,
                hint="the database is not keeping up: raise KILN_PREDICTION_LOG_QUEUE_SIZE or sample less",
            )
