"""A pipeline run's durable step states: conditional updates, one short transaction per change.

These rows are what lets a run resume on another worker: a step is marked running (from pending)
before it is handed to an executor, and its outcome (output, timings, resources, log) is written
the moment it comes back. ``record_and_start`` does both in one transaction per pass of the run's
loop: the steps of chains a process went on to (marked running), the outcomes that came back (one
executemany for all of them, not a statement each) and the steps their outcomes let start (several
in one ``UPDATE ... RETURNING``: the names it moved, as another worker may have taken one first).
Nothing here is audited: it is job bookkeeping (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update

from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.pipelines.models import PipelineRun, PipelineStepRun
from kiln.pipelines.schemas import StepState
from kiln.pipelines.step_process import StepOutcome

_steps = cast(Table, PipelineStepRun.__table__)
_runs = cast(Table, PipelineRun.__table__)
MAX_LOG_CHARS = 200_000


def stamp() -> str:
    return utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Finished:
    """An attempt's outcome to record, and the state it leaves its step in."""

    name: str
    state: StepState
    outcome: StepOutcome
    log_text: str


def record_and_start(
    db: Database,
    run_id: str,
    finished: Sequence[Finished],
    starting: Sequence[tuple[str, str]],
    continued: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """In one transaction: ``continued`` (name, cache key: chained steps a process has gone on
    to) marked running, ``finished`` outcomes, then ``starting`` (name, cache key) marked running;
    the names of ``starting`` marked (another worker may have taken a step first)."""
    with db.engine.begin() as connection:
        if continued:
            now = utcnow()
            connection.execute(
                _MARK_ONE_RUNNING,
                [
                    {"p_run_id": run_id, "p_name": name, "p_started_at": now, "p_cache_key": cache_key}
                    for name, cache_key in continued
                ],
            )
        if finished:
            record_outcomes(connection, run_id, finished)
        return _mark_running(connection, run_id, starting) if starting else []


def _bound(column: str) -> Any:
    """A parameter typed as ``column`` (names differ from the columns': SQLAlchemy keeps those)."""
    return bindparam(f"p_{column}", type_=_steps.c[column].type)


def _this_step(state: StepState) -> Any:
    return (
        _steps.c.run_id == _bound("run_id"),
        _steps.c.name == _bound("name"),
        _steps.c.state == state.value,
    )


# Built once: a statement made per call spent more CPU on SQLAlchemy's cache key than SQLite on it.
# One step (a chain's next) by name, its row count saying whether this pass moved it.
_MARK_ONE_RUNNING = (
    update(_steps)
    .where(*_this_step(StepState.pending))
    .values(
        state=StepState.running.value,
        attempts=_steps.c.attempts + 1,
        started_at=_bound("started_at"),
        finished_at=None,
        cache_key=_bound("cache_key"),
    )
)
# Several (a fan-out) in one statement, the names an expanding parameter, returning the ones it
# moved; then their cache keys in one executemany. (For one step this costs more than the one above:
# the expanded statement is rendered per call, and it is two statements.)
_MARK_RUNNING = (
    update(_steps)
    .where(
        _steps.c.run_id == _bound("run_id"),
        _steps.c.name.in_(bindparam("p_names", expanding=True)),
        _steps.c.state == StepState.pending.value,
    )
    .values(
        state=StepState.running.value,
        attempts=_steps.c.attempts + 1,
        started_at=_bound("started_at"),
        finished_at=None,
    )
    .returning(_steps.c.name)
)
_SET_CACHE_KEY = (
    update(_steps)
    .where(_steps.c.run_id == _bound("run_id"), _steps.c.name == _bound("name"))
    .values(cache_key=_bound("cache_key"))
)
_OUTCOME_COLUMNS = (
    "state",
    "started_at",
    "finished_at",
    "wall_seconds",
    "cpu_seconds",
    "peak_memory_bytes",
    "output",
    "error",
    "traceback",
)
_RECORD_OUTCOME = (
    update(_steps)
    .where(*_this_step(StepState.running))
    .values({column: _bound(column) for column in _OUTCOME_COLUMNS})
)
_RECORD_OUTCOME_AND_LOG = _RECORD_OUTCOME.values(log=_bound("log"))
_READ_LOGS = select(_steps.c.name, _steps.c.log).where(
    _steps.c.run_id == _bound("run_id"), _steps.c.name.in_(bindparam("p_names", expanding=True))
)


def _mark_running(connection: Connection, run_id: str, starting: Sequence[tuple[str, str]]) -> list[str]:
    """Pending -> running, one attempt more; the names moved, in ``starting``'s order."""
    if len(starting) == 1:
        [(name, cache_key)] = starting
        values = {"p_run_id": run_id, "p_name": name, "p_started_at": utcnow(), "p_cache_key": cache_key}
        return [name] if connection.execute(_MARK_ONE_RUNNING, values).rowcount == 1 else []
    names = [name for name, _ in starting]
    moved = set(
        connection.execute(
            _MARK_RUNNING, {"p_run_id": run_id, "p_names": names, "p_started_at": utcnow()}
        ).scalars()
    )
    taken = [(name, key) for name, key in starting if name in moved]
    if taken:
        connection.execute(
            _SET_CACHE_KEY, [{"p_run_id": run_id, "p_name": name, "p_cache_key": key} for name, key in taken]
        )
    return [name for name, _ in taken]


def cached_output(
    db: Database, *, run_id: str, project_id: str, cache_key: str
) -> tuple[str, dict[str, Any]] | None:
    """An earlier run's output of the same function on the same inputs in the project."""
    with db.unit_of_work() as session:
        earlier = session.execute(
            select(PipelineStepRun.run_id, PipelineStepRun.output)
            .join(PipelineRun, PipelineRun.id == PipelineStepRun.run_id)
            .where(
                PipelineStepRun.cache_key == cache_key,
                PipelineStepRun.state == StepState.succeeded.value,
                PipelineStepRun.run_id != run_id,
                PipelineRun.project_id == project_id,
            )
            .order_by(PipelineStepRun.finished_at.desc())
            .limit(1)
        ).first()
    if earlier is None or earlier.output is None:
        return None
    return str(earlier.run_id), dict(earlier.output)


def record_cached(db: Database, run_id: str, name: str, *, source_run: str, output: dict[str, Any]) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            update(_steps)
            .where(_steps.c.run_id == run_id, _steps.c.name == name)
            .values(
                state=StepState.succeeded.value,
                finished_at=utcnow(),
                wall_seconds=0.0,
                output=output,
                cached=True,
                log=f"{stamp()} INFO output reused from run {source_run} (cache)\n",
            )
        )


def record_outcomes(connection: Connection, run_id: str, finished: Sequence[Finished]) -> None:
    """The attempts' outcomes, only onto steps still running (a cancelled run stays cancelled):
    one executemany for the quiet steps, one read of the logs and one executemany for the others."""
    quiet: list[dict[str, Any]] = []
    logged: list[dict[str, Any]] = []
    for done in finished:
        outcome = done.outcome
        values: dict[str, Any] = {
            "p_run_id": run_id,
            "p_name": done.name,
            "p_state": done.state.value,
            **{f"p_{column}": getattr(outcome, column) for column in _OUTCOME_COLUMNS if column != "state"},
        }
        (logged if done.log_text else quiet).append(values)
    if quiet:  # their logs stay as they are, unread
        connection.execute(_RECORD_OUTCOME, quiet)
    if logged:
        names = [values["p_name"] for values in logged]
        rows = connection.execute(_READ_LOGS, {"p_run_id": run_id, "p_names": names})
        current = {row.name: row.log for row in rows}
        texts = {done.name: done.log_text for done in finished if done.log_text}
        for values in logged:
            name = values["p_name"]
            values["p_log"] = (current.get(name, "") + texts[name])[-MAX_LOG_CHARS:]
        connection.execute(_RECORD_OUTCOME_AND_LOG, logged)


def skip_unfinished(db: Database, run_id: str, *, states: tuple[StepState, ...], now: datetime) -> int:
    with db.engine.begin() as connection:
        return skip_unfinished_on(connection, run_id, states=states, now=now)


def skip_unfinished_on(
    connection: Connection, run_id: str, *, states: tuple[StepState, ...], now: datetime
) -> int:
    """``skip_unfinished`` in the caller's transaction (the one that ends the run)."""
    return int(
        connection.execute(
            update(_steps)
            .where(_steps.c.run_id == run_id, _steps.c.state.in_([state.value for state in states]))
            .values(state=StepState.skipped.value, finished_at=now)
        ).rowcount
    )


def failed_outcome(
    error: str, *, started_at: datetime | None = None, wall_seconds: float = 0.0
) -> StepOutcome:
    """An outcome for an attempt that produced none itself (it timed out, its process died)."""
    now = utcnow()
    return StepOutcome(
        ok=False,
        started_at=started_at or now,
        finished_at=now,
        wall_seconds=wall_seconds,
        cpu_seconds=0.0,
        peak_memory_bytes=None,
        error=error,
    )
