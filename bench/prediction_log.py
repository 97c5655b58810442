"""The prediction log's two costs: what an append costs the request path, and what the flusher writes.

    .venv/bin/python -m bench.prediction_log [--records 200000] [--threads 4]

Prints ``name: value unit`` lines:
- ``append_us``: one ``PredictionLogger.append`` on the request path (sampling check, lock, list
  append), single thread, the queue kept as short as the flusher keeps it; and
  ``appends_per_s``, its inverse.
- ``appends_per_s_contended``: appends per second of ``--threads`` threads together while the
  flusher writes (the GIL and the queue's lock shared, as in a threaded server).
- ``end_to_end_rows_per_s``: rows written to a fresh SQLite database (Kiln's pragmas, migrated
  schema) by the flusher thread, from the first append until ``close()`` returns.
- ``flush_rows_per_s``: the writer alone (JSON serialisation, executemany, commit per batch), on a
  queue filled beforehand. Rows are realistic: a one-record input of 30 features, a two-class
  output; batches of the default ``batch_size`` (1,000).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import threading
import time
from pathlib import Path

from kiln.core.db import Database
from kiln.core.migrate import upgrade_database
from kiln.serving.prediction_log import PredictionLogger
from kiln.serving.prediction_record import PredictionRecord, new_request_id
from kiln.serving.settings import PredictionLogSettings

PROJECT = "0190a000-0000-7000-8000-0000000000aa"
INPUTS = [{f"feature_{i}": 0.5 + i for i in range(30)}]
OUTPUTS = [{"prediction": 1, "probabilities": [0.12, 0.88]}]


# Every record must be written: the bench's queue is not bounded by the text it holds.
_UNBOUNDED = 2**40


def record() -> PredictionRecord:
    return PredictionRecord(
        request_id=new_request_id(),
        deployment="breast_cancer",
        project_id=PROJECT,
        model_name="breast_cancer",
        status="ok",
        latency_ms=0.42,
        inputs=INPUTS,
        outputs=OUTPUTS,
        model_version_number=1,
        caller="bench",
    )


def fresh_database(folder: Path) -> Database:
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    upgrade_database(db.engine)
    return db


def append_cost(db: Database, count: int) -> float:
    """Seconds per append on the request path alone: nothing flushing, the queue emptied every
    ``batch_size`` appends as the flusher would keep it (a queue of 200,000 live tuples would
    measure the garbage collector walking it, not the append)."""
    records = [record() for _ in range(count)]
    # The bench's own prepared records are not request-path garbage: keep the collector off them,
    # as the app's gc.freeze() keeps it off what exists after start-up.
    gc.collect()
    gc.freeze()
    settings = PredictionLogSettings()
    logger = PredictionLogger(db, settings)
    append = logger.append
    step = settings.batch_size
    elapsed = 0.0
    for start in range(0, count, step):
        chunk = records[start : start + step]
        began = time.perf_counter()
        for item in chunk:
            append(item)
        elapsed += time.perf_counter() - began
        logger._items.clear()  # what the flusher's swap does, without the write
    gc.unfreeze()
    return elapsed / count


def flush_rate(db: Database, count: int) -> float:
    """Rows per second the writer puts into the database, queue full before it starts."""
    logger = PredictionLogger(db, PredictionLogSettings(queue_size=count + 1, queue_bytes=_UNBOUNDED))
    for _ in range(count):
        logger.append(record())
    started = time.perf_counter()
    logger.close()
    elapsed = time.perf_counter() - started
    assert logger.written == count
    return count / elapsed


def contended_append_cost_and_flush_rate(db: Database, count: int, threads: int) -> tuple[float, float]:
    each = count // threads
    batches = [[record() for _ in range(each)] for _ in range(threads)]
    logger = PredictionLogger(
        db, PredictionLogSettings(queue_size=count + 1, queue_bytes=_UNBOUNDED, flush_interval_ms=50)
    )
    timings: list[float] = [0.0] * threads
    barrier = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        append = logger.append
        barrier.wait()
        started = time.perf_counter()
        for item in batches[index]:
            append(item)
        timings[index] = time.perf_counter() - started

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    logger.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    logger.close()
    elapsed = time.perf_counter() - started
    assert logger.written == each * threads, (logger.written, each * threads)
    # Appends per second of all threads together, while they share the GIL with the flusher.
    return each * threads / max(timings), logger.written / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = fresh_database(Path(folder))
        per_append = min(append_cost(db, args.records) for _ in range(3))
        print(f"append_us: {per_append * 1e6:.3f} us")
        print(f"appends_per_s: {1 / per_append:,.0f} appends/s")
        contended, rows_per_s = contended_append_cost_and_flush_rate(db, args.records, args.threads)
        print(
            f"appends_per_s_contended: {contended:,.0f} appends/s ({args.threads} threads, flusher running)"
        )
        print(f"end_to_end_rows_per_s: {rows_per_s:,.0f} rows/s (SQLite, first append to close)")
        print(f"flush_rows_per_s: {flush_rate(db, args.records):,.0f} rows/s (SQLite, the writer alone)")
        db.dispose()


if __name__ == "__main__":
    main()
