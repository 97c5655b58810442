"""Experiments and runs, made through ``kiln.tracking.service`` (HTTP helpers: tests/tracking/api.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.tracking import batches, service
from kiln.tracking.models import Experiment
from kiln.tracking.schemas import ExperimentCreate, LogBatch, MetricIn, ParamIn, RunCreate, RunRead
from tests.builders.core import unique

TEST_ACTOR = Actor(kind="user", id="tester", name="tester", role="admin")


def make_experiment(session: Session, **overrides: Any) -> Experiment:
    data = {"name": unique("exp"), **overrides}
    return service.create_experiment(session, TEST_ACTOR, ExperimentCreate(**data))


def make_run(
    session: Session,
    experiment: Experiment | None = None,
    *,
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    **overrides: Any,
) -> RunRead:
    experiment = experiment or make_experiment(session)
    run = service.create_run(
        session,
        TEST_ACTOR,
        RunCreate(experiment_id=experiment.id, **overrides),
        artifact_root_url="/tmp/kiln-test-artifacts",
    )
    if params or metrics:
        batches.log_batch(
            session,
            TEST_ACTOR,
            run.id,
            LogBatch(
                params=[ParamIn(key=k, value=v) for k, v in (params or {}).items()],
                metrics=[MetricIn(key=k, value=v) for k, v in (metrics or {}).items()],
            ),
        )
    return run
