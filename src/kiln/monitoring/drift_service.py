"""A deployment's drift over a range: its served inputs (and outputs) against its model's reference.

The reference is the model version's ``reference-sample.json`` (a sample of its training inputs,
checksummed in its model folder). The window is read from the prediction log in pages of the log's
own order and folded into per-feature state batch by batch, never held whole.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.core.permissions import Permission
from kiln.monitoring.drift_schemas import DriftReport, DriftThresholds, FeatureState
from kiln.monitoring.drift_settings import effective_thresholds
from kiln.monitoring.drift_state import categorical_reference, empty_like, fold, numeric_reference
from kiln.monitoring.served_inputs import logged_predictions, logged_rows
from kiln.registry.files import read_version_file, version_descriptor
from kiln.registry.model_format import FieldType, ModelDescriptor
from kiln.registry.reference_sample import REFERENCE_FILE
from kiln.serving.deployments import get_deployment
from kiln.serving.models import Prediction
from kiln.serving.schemas import PredictionStatus
from kiln.storage.store import ArtifactStore

PREDICTION = "prediction"
# Log rows read per query, and in all: a drift window bigger than this is a sample of its first rows.
PAGE = 2_000
MAX_REQUESTS = 200_000
_NUMERIC = frozenset({FieldType.number, FieldType.integer})
References = dict[str, FeatureState]


def deployment_drift(
    session: Session,
    actor: Actor,
    store: ArtifactStore,
    name: str,
    *,
    start: datetime,
    end: datetime,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """The deployment's current model version's served inputs (and outputs) of ``[start, end)``."""
    deployment = get_deployment(session, actor, name, Permission.monitors_read)
    references = version_references(session, store, deployment.version_id)
    if references is None:
        raise Invalid(
            f"deployment {name!r} serves a model version with no reference sample: register it from "
            "training data (log_model with X) so its served inputs can be compared with what it learned"
        )
    return served_drift(
        session,
        references,
        deployment=deployment.name,
        project_id=deployment.project_id,
        version_id=deployment.version_id,
        start=start,
        end=end,
        thresholds=thresholds or effective_thresholds(session, deployment.version_id)[0],
    )


def version_references(session: Session, store: ArtifactStore, version_id: str) -> References | None:
    """The reference state of each input of the version's signature found in its reference sample,
    and of its predictions (``prediction``) when the sample holds them; None without a sample."""
    raw = read_version_file(session, store, version_id, REFERENCE_FILE)
    if raw is None:
        return None
    sample = json.loads(raw)
    signature = ModelDescriptor.model_validate(version_descriptor(session, version_id)).signature
    references: References = {}
    columns: dict[str, list[object]] = sample.get("columns", {})
    for spec in signature.inputs:
        values = columns.get(spec.name)
        if values is None or spec.name == PREDICTION:
            continue
        references[spec.name] = (
            numeric_reference(values) if spec.type in _NUMERIC else categorical_reference(values)
        )
    predictions = sample.get("predictions")
    if isinstance(predictions, list) and predictions:
        # A regressor's values are numbers; a class or an outlier score (-1/1) is a category.
        numeric = signature.outputs.kind == "value"
        references[PREDICTION] = (
            numeric_reference(predictions) if numeric else categorical_reference(predictions)
        )
    return references


def served_drift(
    session: Session,
    references: References,
    *,
    deployment: str,
    project_id: str,
    version_id: str,
    start: datetime,
    end: datetime,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Drift of what ``version_id`` was served (and answered) on ``deployment`` in ``[start, end)``.

    Seeded by the deployment and the window's start: the same log gives the same numbers."""
    windows = {feature: fold(empty_like(state)) for feature, state in references.items()}
    seed = zlib.crc32(f"{deployment}:{start.isoformat()}".encode())
    inputs_watched = [feature for feature in references if feature != PREDICTION]
    for batch, (inputs, outputs) in enumerate(
        _served(session, deployment, project_id, version_id, start, end)
    ):
        columns: dict[str, list[object]] = {feature: [] for feature in references}
        for input_rows, output_rows in zip(inputs, outputs, strict=True):
            rows = list(logged_rows(input_rows))
            for row in rows:
                for feature in inputs_watched:
                    columns[feature].append(row.get(feature))
            if PREDICTION in references:
                columns[PREDICTION].extend(logged_predictions(output_rows)[: len(rows)])
        for feature, values in columns.items():
            windows[feature].add(values, seed=seed + batch)
    states = {feature: window.state() for feature, window in windows.items()}
    prediction = PREDICTION if PREDICTION in references else None
    # scipy and pandas cost seconds and tens of MB: a serving process that never computes drift skips them.
    from kiln.monitoring.drift import drift_report

    return drift_report(references, states, thresholds or DriftThresholds(), prediction_feature=prediction)


def _served(
    session: Session, deployment: str, project_id: str, version_id: str, start: datetime, end: datetime
) -> Iterator[tuple[list[Any], list[Any]]]:
    after, seen = 0, 0
    while seen < MAX_REQUESTS:
        rows = session.execute(
            select(Prediction.seq, Prediction.inputs, Prediction.outputs)
            .where(
                Prediction.deployment == deployment,
                Prediction.project_id == project_id,
                Prediction.model_version_id == version_id,
                Prediction.status == PredictionStatus.ok.value,
                Prediction.created_at >= start,
                Prediction.created_at < end,
                Prediction.seq > after,
            )
            .order_by(Prediction.seq)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        yield [row.inputs for row in rows], [row.outputs for row in rows]
        after, seen = rows[-1].seq, seen + len(rows)
