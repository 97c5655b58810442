"""CPU time of the worker's process per step of a chain, in-process (load-independent).

A Kiln app on a temporary SQLite database; chains of 20 and 100 no-op steps (``bench.pipeline_steps``)
executed by ``Worker.run_pending`` in this process, the local executor's step processes beside it.
``time.process_time`` around ``run_pending`` counts every thread of this process (the run's loop,
the threads feeding the step processes), never the step processes themselves. Per step =
(CPU of the 100-step run - CPU of the 20-step run) / 80, medians of ``--repeats`` runs of each; the first
run (which starts the fork server and the step processes) is left out. ``--profile`` prints a
cProfile of one 100-step run.

    PYTHONPATH=$PWD/src python -m bench.pipelines_worker_cpu --repeats 5
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from itertools import pairwise
from pathlib import Path

from sqlalchemy import event, select

from bench.pipeline_steps import chain
from kiln.app import KilnSettings, create_app, kiln_state
from kiln.core.actor import SYSTEM
from kiln.core.db import Database
from kiln.jobs.settings import WorkerSettings
from kiln.jobs.worker import Worker
from kiln.pipelines import runs, service
from kiln.pipelines.models import PipelineRun, PipelineStepRun
from kiln.pipelines.schemas import PipelineRegister, RunCreate
from kiln.pipelines.settings import PipelineSettings
from kiln.storage.settings import StorageSettings

MODULES = ["bench.pipeline_steps"]


def _start(db: Database, name: str, artifact_root_url: str) -> None:
    with db.unit_of_work() as session:
        runs.create_run(session, SYSTEM, name, RunCreate(parameters={}), artifact_root_url=artifact_root_url)


class _Commits:
    """Counts the transactions committed on the database (the run's passes among them)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine, "commit", self._committed)

    def _committed(self, _connection: object) -> None:
        self.count += 1


def _cpu_of_run(
    db: Database, name: str, root: str, commits: _Commits, profile: cProfile.Profile | None = None
) -> tuple[float, float, int]:
    """CPU seconds of this process, wall seconds of ``run_pending`` and transactions committed,
    for one run of ``name``."""
    _start(db, name, root)
    worker = Worker(db, lease_seconds=60)
    before = commits.count
    cpu, wall = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    assert worker.run_pending() == 1
    if profile is not None:
        profile.disable()
    return time.process_time() - cpu, time.perf_counter() - wall, commits.count - before


def _step_times(db: Database) -> str:
    """The last run's steps as its rows say: each step's wall time in its process, and the gap
    from one step's finish to the next one's start (the hand-over)."""
    with db.unit_of_work() as session:
        run_id = session.scalars(select(PipelineRun.id).order_by(PipelineRun.created_at.desc())).first()
        rows = session.execute(
            select(PipelineStepRun.started_at, PipelineStepRun.finished_at, PipelineStepRun.wall_seconds)
            .where(PipelineStepRun.run_id == run_id)
            .order_by(PipelineStepRun.started_at)
        ).all()
    walls = [row.wall_seconds * 1000 for row in rows]
    gaps = [
        (after.started_at - before.finished_at).total_seconds() * 1000 for before, after in pairwise(rows)
    ]
    span = (rows[-1].finished_at - rows[0].started_at).total_seconds() * 1000
    return (
        f"last run's {len(rows)} steps: wall in the step process {statistics.median(walls):.3f} ms "
        f"(median), gap between steps {statistics.median(gaps):.3f} ms (median) "
        f"{statistics.mean(gaps):.3f} ms (mean), first start to last finish {span:.1f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one 100-step run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kiln-bench-worker-cpu-") as folder:
        tmp = Path(folder)
        settings = KilnSettings(
            home=tmp / "home",
            log_level="WARNING",
            secret_key="bench-secret-key-0123456789-abcdefghijklmnop",
            audit_key="bench-audit-key-0123456789-abcdefghijklmnop",
            storage=StorageSettings(artifact_root=str(tmp / "artifacts")),
            worker=WorkerSettings(enabled=False),
            pipelines=PipelineSettings(modules=tuple(MODULES)),
        )
        app = create_app(settings)
        state = kiln_state(app)
        db = state.db
        root = state.store.root_url
        with db.unit_of_work() as session:
            for steps in (20, 100):
                service.register_pipeline(
                    session, SYSTEM, PipelineRegister(spec=chain(steps).spec()), allowed_modules=MODULES
                )
        commits = _Commits(db)
        _cpu_of_run(db, "chain_20", root, commits)  # starts the step processes
        short_cpu, long_cpu, short_wall, long_wall, long_commits = [], [], [], [], []
        for _ in range(args.repeats):
            cpu, wall, _ = _cpu_of_run(db, "chain_20", root, commits)
            short_cpu.append(cpu)
            short_wall.append(wall)
            cpu, wall, committed = _cpu_of_run(db, "chain_100", root, commits)
            long_cpu.append(cpu)
            long_wall.append(wall)
            long_commits.append(committed)
        median = statistics.median
        per_step = (median(long_cpu) - median(short_cpu)) / 80
        print(f"worker CPU per step: {per_step * 1000:.3f} ms (medians of {args.repeats} runs of each)")
        print(f"worker CPU per run beyond its steps: {(median(short_cpu) - 20 * per_step) * 1000:.2f} ms")
        print("CPU of 20-step runs, ms:", " ".join(f"{value * 1000:.1f}" for value in short_cpu))
        print("CPU of 100-step runs, ms:", " ".join(f"{value * 1000:.1f}" for value in long_cpu))
        print("transactions per 100-step run:", " ".join(str(count) for count in long_commits))
        wall_per_step = (median(long_wall) - median(short_wall)) / 80
        print(f"wall per step of run_pending: {wall_per_step * 1000:.3f} ms")
        print(_step_times(db))
        if args.profile:
            profile = cProfile.Profile()
            _cpu_of_run(db, "chain_100", root, commits, profile)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        db.dispose()


if __name__ == "__main__":
    main()
