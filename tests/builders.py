"""Plain builder functions for test data (no fixture pyramids)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth import tokens
from kiln.auth.models import ProjectMember, User
from kiln.auth.projects import ensure_default_project
from kiln.core.actor import Actor
from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.core.security import hash_password
from kiln.tracking import service
from kiln.tracking.models import Experiment, Run
from kiln.tracking.schemas import ExperimentCreate, LogBatch, MetricIn, ParamIn, RunCreate

TEST_ACTOR = Actor(kind="user", id="tester", name="tester", role="admin")
# Hashing with argon2 is slow on purpose; tests share one hash of one strong password.
TEST_PASSWORD = "kiln tests use a long passphrase"
_password_hash: dict[str, str] = {}


def make_user(session: Session, email: str, *, role: str = "viewer", project_role: str | None = None) -> User:
    """A user with TEST_PASSWORD, in the default project as ``project_role`` (default: ``role``)."""
    if "hash" not in _password_hash:
        _password_hash["hash"] = hash_password(TEST_PASSWORD)
    user = User(email=email, name=email.split("@")[0], password_hash=_password_hash["hash"], role=role)
    session.add(user)
    session.flush()
    project = ensure_default_project(session)
    session.add(
        ProjectMember(project_id=project.id, user_id=user.id, role=project_role or role, created_at=utcnow())
    )
    session.flush()
    return user


def make_user_token(app: FastAPI, email: str, *, role: str = "viewer") -> str:
    """Create a user and log them in; returns a Bearer access token."""
    db: Database = kiln_state(app).db
    with db.unit_of_work() as session:
        user = make_user(session, email, role=role)
        return tokens.open_session(session, user, kiln_state(app).auth_config).access_token


_counter = {"n": 0}


def unique(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}-{_counter['n']}"


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
) -> Run:
    experiment = experiment or make_experiment(session)
    run = service.create_run(
        session,
        TEST_ACTOR,
        RunCreate(experiment_id=experiment.id, **overrides),
        artifact_root_url="/tmp/kiln-test-artifacts",
    )
    if params or metrics:
        service.log_batch(
            session,
            TEST_ACTOR,
            run.id,
            LogBatch(
                params=[ParamIn(key=k, value=v) for k, v in (params or {}).items()],
                metrics=[MetricIn(key=k, value=v) for k, v in (metrics or {}).items()],
            ),
        )
    return run


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_client(app: FastAPI) -> TestClient:
    """A TestClient for ``app`` authenticated as a fresh admin (for tests that build their own app)."""
    return TestClient(app, headers=bearer(make_user_token(app, unique("admin") + "@kiln.test", role="admin")))
