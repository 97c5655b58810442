"""Logging into a running run: metrics, params and tags in one batch, one transaction.

The hot path of tracking: Core multi-row INSERTs and upserts, no ORM objects, no audit record
(telemetry is not audited; docs/architecture.md). The run's state guard lives with the run
(``service.require_running``), so a batch never lands in a finished run.
"""

from __future__ import annotations

import math
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, or_, select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.db import insert_rows, upsert_rows
from kiln.core.errors import Conflict
from kiln.core.ids import to_millis, utcnow
from kiln.tracking.lineage_nodes import record_input_tags
from kiln.tracking.models import LatestMetric, Metric, Param, RunTag
from kiln.tracking.schemas import INPUT_TAG_PREFIX, BatchResult, LogBatch
from kiln.tracking.service import require_running

_METRIC_COLUMNS = ("run_id", "key", "value", "step", "timestamp_ms")
_LATEST = cast(Table, LatestMetric.__table__)
# Built once: on a small batch, building a statement costs more than running it.
_STORED_PARAMS = select(Param.key, Param.value).where(
    Param.run_id == bindparam("run_id"), Param.key.in_(bindparam("keys", expanding=True))
)


def log_batch(session: Session, actor: Actor, run_id: str, batch: LogBatch) -> BatchResult:
    """Record metrics, params and tags in one transaction; nothing is kept if any part is refused."""
    require_running(session, actor, run_id)
    _log_params(session, run_id, batch)
    upsert_rows(
        session,
        RunTag.__table__,
        [{"run_id": run_id, "key": tag.key, "value": tag.value} for tag in batch.tags],
        key=["run_id", "key"],
        update=["value"],
    )
    _log_metrics(session, run_id, batch)
    # Inputs logged after creation travel as tags (the SDK's log_input); rare, and off the metric path.
    inputs = [tag for tag in batch.tags if tag.key.startswith(INPUT_TAG_PREFIX)]
    if inputs:
        record_input_tags(session, actor, run_id, [(tag.key, tag.value) for tag in inputs])
    # Telemetry is not audited (docs/architecture.md): a batch would queue behind the chain-head lock.
    # The run's creation and its end are.
    return BatchResult(metrics=len(batch.metrics), params=len(batch.params), tags=len(batch.tags))


def _log_params(session: Session, run_id: str, batch: LogBatch) -> None:
    if not batch.params:
        return
    incoming: dict[str, str] = {}
    for param in batch.params:
        first = incoming.setdefault(param.key, param.value)
        if first != param.value:
            raise Conflict(
                f"param {param.key!r} appears twice in the batch, as {first!r} and {param.value!r}; "
                "a param has one value per run",
                details={"key": param.key, "values": [first, param.value]},
            )
    # Insert-or-keep, then compare: a concurrent request logging the same key cannot cause a 500.
    upsert_rows(
        session,
        Param.__table__,
        [{"run_id": run_id, "key": k, "value": v} for k, v in incoming.items()],
        key=["run_id", "key"],
        update=[],
    )
    keys = {"run_id": run_id, "keys": list(incoming)}
    stored = dict(session.connection().execute(_STORED_PARAMS, keys).all())
    for key, value in incoming.items():
        if stored[key] != value:
            raise Conflict(
                f"param {key!r} was already logged as {stored[key]!r} and cannot change to {value!r}; "
                "params are recorded once per run — log a new run for a new value",
                details={"key": key, "logged": stored[key], "attempted": value},
            )


def _log_metrics(session: Session, run_id: str, batch: LogBatch) -> None:
    if not batch.metrics:
        return
    now_ms = to_millis(utcnow())
    rows = [
        (
            run_id,
            metric.key,
            None if math.isnan(metric.value) else metric.value,
            metric.step,
            metric.timestamp if metric.timestamp is not None else now_ms,
        )
        for metric in batch.metrics
    ]
    insert_rows(session, Metric.__table__, _METRIC_COLUMNS, rows)
    # The newest point per key (highest step, then latest timestamp) becomes the run's current value.
    latest: dict[str, tuple[str, str, float | None, int, int]] = {}
    for row in rows:
        current = latest.get(row[1])
        if current is None or (row[3], row[4]) >= (current[3], current[4]):
            latest[row[1]] = row
    upsert_rows(
        session,
        _LATEST,
        [dict(zip(_METRIC_COLUMNS, row, strict=True)) for row in latest.values()],
        key=["run_id", "key"],
        update=["value", "step", "timestamp_ms"],
        only_if=_newer,
    )


def _newer(new: Any) -> ColumnElement[bool]:
    """The point replaces the run's latest value: a higher step, or the same step logged later."""
    table = _LATEST
    return or_(
        new.step > table.c.step,
        (new.step == table.c.step) & (new.timestamp_ms >= table.c.timestamp_ms),
    )
