"""Registered models and versions for the lifecycle tests: a real model folder in the store, rows by the ORM.

Until the registry's registration service is merged, versions are written the way it writes them:
a fitted scikit-learn model saved by the SDK's ``save_model`` (skops), its files copied under the
version's prefix in the artifact store with their sha256, and the rows of ``kiln.registry.models``.
Stages are then changed only through the lifecycle services or the API, as users change them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth import projects
from kiln.client.sklearn_model import save_model
from kiln.core.actor import SYSTEM
from kiln.registry import aliases, approvals, lifecycle
from kiln.registry.files import version_prefix
from kiln.registry.lifecycle_schemas import ApprovalRequestCreate
from kiln.registry.model_format import DESCRIPTOR_FILE, parse_descriptor
from kiln.registry.models import ModelVersion, ModelVersionFile, ModelVersionMetric, RegisteredModel
from kiln.registry.schemas import RiskLevel
from kiln.storage.store import ArtifactStore
from tests.builders.core import database, unique


@dataclass(frozen=True, slots=True)
class BuiltVersion:
    model: str
    model_id: str
    id: str
    number: int


def fitted_classifier() -> tuple[LogisticRegression, pd.DataFrame]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"amount": rng.uniform(0, 100, 60), "age": rng.uniform(18, 80, 60)})
    y = (X["amount"] > 50).astype(int)
    return LogisticRegression().fit(X, y), X


def make_registered_model(
    session: Session,
    *,
    name: str | None = None,
    project_id: str | None = None,
    gates: dict[str, Any] | None = None,
) -> RegisteredModel:
    model = RegisteredModel(
        project_id=project_id or projects.ensure_default_project(session).id,
        name=name or unique("model"),
        gates=gates or {},
        created_by="tester",
    )
    session.add(model)
    session.flush()
    return model


def make_version(
    session: Session,
    store: ArtifactStore,
    model: RegisteredModel,
    *,
    metrics: dict[str, float] | None = None,
    label: str | None = None,
    example: bool = True,
) -> ModelVersion:
    """A registered version of ``model`` in ``development``, its files really in the store."""
    estimator, X = fitted_classifier()
    with tempfile.TemporaryDirectory() as scratch:
        folder = save_model(estimator, Path(scratch) / "model", X=X, metrics=metrics or {})
        descriptor = parse_descriptor((folder / DESCRIPTOR_FILE).read_text())
        if example:
            descriptor = descriptor.model_copy(update={"example_input": {"amount": 70.0, "age": 30.0}})
        model.last_version += 1
        version = ModelVersion(
            model_id=model.id,
            number=model.last_version,
            label=label,
            flavor=descriptor.flavor.value,
            serialization=descriptor.serialization.value,
            descriptor=descriptor.model_dump(mode="json", exclude_none=True),
            storage_prefix="",
            created_by="tester",
        )
        session.add(version)
        session.flush()
        version.storage_prefix = version_prefix(model.id, version.id)
        for name, sha in descriptor.checksums.items():
            path = folder / name
            size = path.stat().st_size
            store.put_file(str(path), f"{version.storage_prefix}/{name}", size=size, sha256=sha)
            session.add(ModelVersionFile(version_id=version.id, path=name, size=size, sha256=sha))
            version.size_bytes += size
    for key, value in (metrics or {}).items():
        session.add(ModelVersionMetric(version_id=version.id, key=key, value=value))
    session.flush()
    return version


def build_model(
    app: FastAPI,
    *,
    versions: int = 1,
    metrics: list[dict[str, float]] | None = None,
    gates: dict[str, Any] | None = None,
    project_id: str | None = None,
    name: str | None = None,
    labels: list[str | None] | None = None,
) -> list[BuiltVersion]:
    """A committed model with ``versions`` development versions (``metrics[i]``, ``labels[i]`` for
    version i + 1)."""
    store = kiln_state(app).store
    with database(app).unit_of_work() as session:
        model = make_registered_model(session, name=name, project_id=project_id, gates=gates)
        built = []
        for index in range(versions):
            found = make_version(
                session,
                store,
                model,
                metrics=(metrics or [{}] * versions)[index],
                label=(labels or [None] * versions)[index],
            )
            built.append(BuiltVersion(model.name, model.id, found.id, found.number))
        return built


def add_version(app: FastAPI, model_name: str, *, metrics: dict[str, float] | None = None) -> BuiltVersion:
    with database(app).unit_of_work() as session:
        model = session.scalars(select(RegisteredModel).where(RegisteredModel.name == model_name)).one()
        found = make_version(session, kiln_state(app).store, model, metrics=metrics)
        return BuiltVersion(model.name, model.id, found.id, found.number)


def corrupt_payload(app: FastAPI, version: BuiltVersion) -> None:
    """Change the stored bytes of a version's payload behind the registry's back (a tampered store)."""
    target = Path(kiln_state(app).store.root) / version_prefix(version.model_id, version.id) / "model.skops"
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")


def build_lifecycle_trail(app: FastAPI, project_id: str, name: str) -> BuiltVersion:
    """A model of ``project_id`` with one version in staging (gates run), an alias and a pending
    approval request: something on every lifecycle list (history, aliases, approvals)."""
    [built] = build_model(app, project_id=project_id, name=name)
    store, mailer = kiln_state(app).store, kiln_state(app).mailer
    with database(app).unit_of_work() as session:
        model = session.get_one(RegisteredModel, built.model_id)
        version = session.get_one(ModelVersion, built.id)
        outcome = lifecycle.promote_to_staging(
            session, SYSTEM, model, version, reason="built", store=store, mailer=mailer
        )
        assert outcome.blocked is None, outcome.blocked
        aliases.set_alias(session, SYSTEM, model, "champion", version.number)
        approvals.request_production(
            session,
            SYSTEM,
            model,
            version,
            ApprovalRequestCreate(risk_assessment="built", risk_level=RiskLevel.low),
            mailer=mailer,
        )
    return built
