"""Registered models and versions, made through ``kiln.registry`` services (a real fitted model each time).

``fitted_forest`` trains a real scikit-learn IsolationForest on generated data; ``save_run_model``
writes it with ``save_model`` and stores the folder as the run's ``model/`` artifacts, exactly as
``kiln.sklearn`` autolog does, so registering from the run copies real bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest
from sqlalchemy.orm import Session

from kiln.client.sklearn_model import save_model
from kiln.registry import registration, service
from kiln.registry.models import ModelVersion, RegisteredModel
from kiln.registry.schemas import ModelCreate, VersionFromRun
from kiln.registry.settings import ModelRegistrySettings
from kiln.storage.store import ArtifactStore
from kiln.tracking import artifacts
from kiln.tracking.models import Run
from tests.builders.core import unique
from tests.builders.tracking import TEST_ACTOR, make_run

FEATURES = ["amount", "hour", "distance"]


def transactions(rows: int = 200, seed: int = 0) -> Any:
    """Card transactions as a DataFrame: amount, hour of day, distance from home."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 40.0, rows),
            "hour": rng.integers(0, 24, rows).astype(float),
            "distance": rng.exponential(5.0, rows),
        }
    )


def fitted_forest(*, n_estimators: int = 50, seed: int = 0) -> tuple[IsolationForest, Any]:
    X = transactions(seed=seed)
    return IsolationForest(n_estimators=n_estimators, random_state=seed).fit(X), X


def save_folder(estimator: Any, X: Any, folder: Path | None = None) -> Path:
    """The model folder ``save_model`` writes (``model.skops`` + ``kiln-model.json``)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="kiln-test-model-")) / "model"
    return save_model(estimator, folder, X=X)


def save_run_model(session: Session, store: ArtifactStore, run: Run, estimator: Any, X: Any) -> None:
    """Store the saved folder as the run's ``model/`` artifacts, as autolog does."""
    folder = save_folder(estimator, X)
    for file in sorted(folder.iterdir()):
        stored = store.put_bytes(f"{artifacts.object_prefix(run.id)}/{unique('obj')}", file.read_bytes())
        artifacts.record_artifact(session, TEST_ACTOR, run.id, f"model/{file.name}", stored)


def make_model(session: Session, **overrides: Any) -> RegisteredModel:
    data = {"name": unique("model"), **overrides}
    return service.create_model(session, TEST_ACTOR, ModelCreate(**data))


def make_version_from_run(
    session: Session,
    store: ArtifactStore,
    *,
    name: str = "fraud_detector",
    label: str | None = None,
    n_estimators: int = 50,
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    settings: ModelRegistrySettings | None = None,
) -> ModelVersion:
    """A run that trained an IsolationForest (with ``params`` and ``metrics``), registered as ``name``."""
    estimator, X = fitted_forest(n_estimators=n_estimators)
    run = make_run(session, params={"n_estimators": n_estimators, **(params or {})}, metrics=metrics)
    save_run_model(session, store, run, estimator, X)
    return registration.register_from_run(
        session,
        TEST_ACTOR,
        store,
        name,
        VersionFromRun(source=f"runs:/{run.id}/model", label=label),
        settings=settings or ModelRegistrySettings(),
    )
