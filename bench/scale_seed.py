"""Seed one Kiln experiment with 10,000 runs and 1,000,000 metric points, fast.

The data goes in through Kiln's service layer (``kiln.tracking.service``: the same ``create_run`` and
``log_batch`` the REST endpoints call, with the same validation), straight into the SQLite database,
before the server starts. Over HTTP the same data would take 20,000+ requests (the batch endpoint is
per run); in-process it takes a minute or two, and what is measured afterwards is only reading.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from kiln.core.actor import SYSTEM
from kiln.core.db import Database
from kiln.core.migrate import upgrade_database
from kiln.core.settings import Settings
from kiln.storage.settings import StorageSettings
from kiln.tracking import batches, service
from kiln.tracking.models import Run
from kiln.tracking.schemas import (
    ExperimentCreate,
    LogBatch,
    MetricIn,
    ParamIn,
    RunCreate,
    RunStatus,
)

RUNS = 10_000
POINTS = 1_000_000
NORMAL_KEYS = ("loss", "accuracy")
NORMAL_STEPS = 30  # 2 keys x 30 steps = 60 points per ordinary run
LONG_KEY = "loss"
RUNS_PER_TRANSACTION = 500
LONG_CHUNK = 50_000


@dataclass(frozen=True)
class Seeded:
    experiment_id: str
    long_run_id: str
    normal_run_id: str
    runs: int
    points: int
    long_points: int
    seconds: float


def _curve(rng: random.Random, steps: int, final: float) -> list[float]:
    return [final + (1 - final) * math.exp(-step / (steps / 4)) + rng.gauss(0, 0.01) for step in range(steps)]


def _long_value(step: int) -> float:
    return 2 * math.exp(-step / 100_000) + 0.01 * math.sin(step)


def _ordinary_batch(rng: random.Random, index: int, start_ms: int) -> LogBatch:
    final_accuracy = rng.uniform(0.5, 0.99)
    loss = _curve(rng, NORMAL_STEPS, 1 - final_accuracy)
    accuracy = [1 - value for value in loss]
    metrics = [
        MetricIn(key=key, value=values[step], step=step, timestamp=start_ms + step * 1000)
        for key, values in zip(NORMAL_KEYS, (loss, accuracy), strict=True)
        for step in range(NORMAL_STEPS)
    ]
    params = [
        ParamIn(key="lr", value=rng.choice(["0.1", "0.03", "0.01", "0.003", "0.001"])),
        ParamIn(key="batch_size", value=rng.choice(["32", "64", "128", "256"])),
        ParamIn(key="seed", value=str(index)),
    ]
    return LogBatch(metrics=metrics, params=params)


def seed(home: Path, *, runs: int = RUNS, points: int = POINTS, rng_seed: int = 7) -> Seeded:
    """Create the database under ``home`` and fill it; one run gets the long history."""
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    settings = Settings(home=home)
    settings.ensure_home()
    db = Database(settings.resolved_database_url)
    upgrade_database(db.engine)
    artifact_root = StorageSettings().root(home)
    ordinary = runs - 1
    long_points = points - ordinary * len(NORMAL_KEYS) * NORMAL_STEPS
    if long_points <= 0:
        raise ValueError(f"{points} points do not leave a long history beside {ordinary} ordinary runs")
    base = datetime(2026, 1, 1, tzinfo=UTC)

    with db.unit_of_work() as session:
        experiment_id = service.create_experiment(session, SYSTEM, ExperimentCreate(name="scale")).id
        long_run = service.create_run(
            session,
            SYSTEM,
            RunCreate(experiment_id=experiment_id, name="long-history", start_time=base),
            artifact_root_url=artifact_root,
        )
        long_run_id = long_run.id
    base_ms = int(base.timestamp() * 1000)
    for start in range(0, long_points, LONG_CHUNK):
        steps = range(start, min(start + LONG_CHUNK, long_points))
        metrics = [
            MetricIn(
                key=LONG_KEY,
                value=2 * math.exp(-s / 100_000) + 0.01 * math.sin(s),
                step=s,
                timestamp=base_ms + s,
            )
            for s in steps
        ]
        with db.unit_of_work() as session:
            batches.log_batch(session, SYSTEM, long_run_id, LogBatch(metrics=metrics))

    normal_run_id = ""
    for first in range(0, ordinary, RUNS_PER_TRANSACTION):
        with db.unit_of_work() as session:
            for index in range(first, min(first + RUNS_PER_TRANSACTION, ordinary)):
                start_time = base + timedelta(minutes=index + 1)
                run = service.create_run(
                    session,
                    SYSTEM,
                    RunCreate(experiment_id=experiment_id, name=f"trial-{index:05d}", start_time=start_time),
                    artifact_root_url=artifact_root,
                )
                batches.log_batch(
                    session, SYSTEM, run.id, _ordinary_batch(rng, index, int(start_time.timestamp() * 1000))
                )
                normal_run_id = normal_run_id or run.id
    # Ordinary runs are finished (the long one is still going). One UPDATE instead of 10,000
    # update_run calls, which would each reload the run with all its children: seeding only.
    with db.unit_of_work() as session:
        session.execute(
            update(Run)
            .where(Run.experiment_id == experiment_id, Run.id != long_run_id)
            .values(status=RunStatus.finished.value, end_time=Run.start_time)
        )
    db.dispose()
    return Seeded(
        experiment_id=experiment_id,
        long_run_id=long_run_id,
        normal_run_id=normal_run_id,
        runs=runs,
        points=points,
        long_points=long_points,
        seconds=time.perf_counter() - started,
    )
