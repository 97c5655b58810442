"""SQLite's insert ceiling for metric rows on this disk: what any server's batch path could reach at best.

Plain ``sqlite3`` inserts (128 rows a statement) of rows shaped like Kiln's ``metrics`` rows, with
nothing else: no HTTP, no validation, no ORM, no ``latest_metrics`` upkeep. The table is Kiln's own
(its DDL is compiled from ``kiln.tracking.models.Metric``, with the covering history index and the
foreign key to ``runs``), and the connection has Kiln's pragmas (``kiln.core.db``): WAL,
``synchronous=NORMAL``, foreign keys on.
Rows go in batches of 1,000, one commit per batch, as a batch endpoint would commit.
"""

from __future__ import annotations

import functools
import sqlite3
import statistics
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from bench.workload import Deadline, batch_points
from kiln.core.db import ROWS_PER_STATEMENT  # as Kiln writes them: 55-57 % of executemany's time here
from kiln.tracking.models import Metric

ROWS_PER_BATCH = 1000
RUN_ID = "00000000-0000-0000-0000-000000000001"


@dataclass(frozen=True)
class Ceiling:
    rows: int
    tries: list[float]  # rows/s of each try, each on a fresh database file

    @property
    def median(self) -> float:
        return statistics.median(self.tries)

    @property
    def best(self) -> float:
        return max(self.tries)


def _metrics_ddl(*, with_index: bool) -> list[str]:
    dialect = sqlite_dialect.dialect()
    table = Metric.__table__
    statements = [str(CreateTable(table).compile(dialect=dialect))]
    if with_index:
        statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
    return statements


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    # Kiln's pragmas (kiln.core.db._sqlite_pragmas), minus the ones that do not touch inserts.
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


@functools.cache
def _insert(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO metrics (run_id, key, value, step, timestamp_ms) VALUES {values}"


def _one_try(path: Path, rows: list[tuple[str, str, float, int, int]], *, with_index: bool) -> float:
    connection = _connect(path)
    try:
        # The parent table only needs the key the foreign key checks; Kiln's runs table has more columns.
        connection.execute("CREATE TABLE runs (id VARCHAR(36) PRIMARY KEY)")
        for statement in _metrics_ddl(with_index=with_index):
            connection.execute(statement)
        connection.execute("INSERT INTO runs (id) VALUES (?)", (RUN_ID,))
        connection.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), ROWS_PER_BATCH):
            batch = rows[start : start + ROWS_PER_BATCH]
            for first in range(0, len(batch), ROWS_PER_STATEMENT):
                chunk = batch[first : first + ROWS_PER_STATEMENT]
                connection.execute(_insert(len(chunk)), tuple(chain.from_iterable(chunk)))
            connection.commit()
        elapsed = time.perf_counter() - started
        stored = connection.execute("SELECT count(*) FROM metrics").fetchone()[0]
    finally:
        connection.close()
    if stored != len(rows):
        raise RuntimeError(f"SQLite ceiling: {stored} rows stored, expected {len(rows)}")
    return len(rows) / elapsed


def measure(
    directory: Path, rows: int, *, tries: int = 3, with_index: bool = True, limit: float = 300
) -> Ceiling:
    """``tries`` runs of ``rows`` inserts, each into a fresh database in ``directory`` (the servers' disk)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = int(time.time() * 1000)
    data = [(RUN_ID, key, value, step, now) for key, step, value in batch_points(rows)]
    deadline = Deadline("SQLite insert ceiling", limit)
    rates = []
    for index in range(tries):
        suffix = "indexed" if with_index else "bare"
        rates.append(_one_try(directory / f"ceiling-{suffix}-{index}.db", data, with_index=with_index))
        deadline.check()
    return Ceiling(rows=rows, tries=rates)
