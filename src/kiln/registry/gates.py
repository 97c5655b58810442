"""The staging gates: what a version must pass before it may enter ``staging``.

Every version runs ``artifact`` (its files come back from the store with matching checksums) and
``smoke`` (the folder loads and predicts on the descriptor's example input); a model may add metric
gates (``accuracy >= 0.85``) and ``no_worse_than_production`` (``RegisteredModel.gates``, set with
``set_gates``). Each outcome is ``{"gate", "passed", "detail"}``, kept in ``ModelVersion.gate_results``.
"""

from __future__ import annotations

import math
import operator
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.errors import KilnError, ValidationFailed
from kiln.core.permissions import Permission
from kiln.registry.access import check_in_project
from kiln.registry.files import materialize_version
from kiln.registry.lifecycle_schemas import GateResult, GatesConfig, MetricGate, NoWorseThanProduction
from kiln.registry.loaded_model import load_model_folder
from kiln.registry.model_format import FieldSpec, FieldType, ModelDescriptor, Scalar
from kiln.registry.models import ModelVersion, ModelVersionMetric, RegisteredModel
from kiln.registry.schemas import Stage
from kiln.storage.store import ArtifactStore

log = structlog.get_logger(__name__)

ARTIFACT = "artifact"
SMOKE = "smoke"
NO_WORSE = "no_worse_than_production"
_DETAIL_LENGTH = 500

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


def gates_of(model: RegisteredModel) -> GatesConfig:
    """A model's configured gates (an empty config when none were set)."""
    return GatesConfig.model_validate(model.gates or {})


def set_gates(session: Session, actor: Actor, model: RegisteredModel, config: GatesConfig) -> GatesConfig:
    """Replace ``model``'s metric gates (audited). The next promotion to staging checks them."""
    check_in_project(session, actor, model, Permission.models_promote_production)
    before = model.gates or {}
    model.gates = config.model_dump(mode="json", exclude_none=True)
    session.flush()
    audit.record(
        session,
        actor,
        "model.gates_set",
        "registered_model",
        model.id,
        {"before": before, "after": model.gates},
    )
    return config


def parse_gates(raw: Any) -> GatesConfig:
    """A gates document from a form or file, or ValidationFailed saying what to fix."""
    try:
        return GatesConfig.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ValidationFailed(f"gates: {where}: {error['msg']}") from None


def run_gates(
    session: Session,
    store: ArtifactStore,
    model: RegisteredModel,
    version: ModelVersion,
    *,
    trust_pickle: bool,
) -> list[GateResult]:
    """Every gate of ``version``, in order; a gate that cannot run says why and fails."""
    config = gates_of(model)
    with tempfile.TemporaryDirectory(prefix="kiln-gates-") as scratch:
        folder = Path(scratch) / "model"
        results = [_artifact_gate(store, version, folder)]
        if results[0].passed:
            results.append(_smoke_gate(folder, version, trust_pickle=trust_pickle))
        else:
            results.append(GateResult(gate=SMOKE, passed=False, detail="not run: the artifact did not load"))
    metrics = version_metrics(session, version)
    results += [_metric_gate(gate, metrics) for gate in config.metrics]
    if config.no_worse_than_production is not None:
        results.append(_no_worse_gate(session, version, config.no_worse_than_production, metrics))
    return results


def failed(results: list[GateResult]) -> list[GateResult]:
    return [result for result in results if not result.passed]


def version_metrics(session: Session, version: ModelVersion) -> dict[str, float | None]:
    """The version's metrics: its copied rows, else those its descriptor lists."""
    rows = session.execute(
        select(ModelVersionMetric.key, ModelVersionMetric.value).where(
            ModelVersionMetric.version_id == version.id
        )
    )
    metrics: dict[str, float | None] = dict(rows.all())
    if not metrics:
        metrics = dict((version.descriptor or {}).get("metrics") or {})
    return metrics


def _short(text: str) -> str:
    return text if len(text) <= _DETAIL_LENGTH else text[: _DETAIL_LENGTH - 1] + "…"


def _artifact_gate(store: ArtifactStore, version: ModelVersion, folder: Path) -> GateResult:
    try:
        materialize_version(store, version, folder)
    except KilnError as exc:
        return GateResult(gate=ARTIFACT, passed=False, detail=_short(exc.message))
    except Exception as exc:
        log.exception("registry.gate_error", gate=ARTIFACT, version_id=version.id)
        return GateResult(gate=ARTIFACT, passed=False, detail=_short(f"{type(exc).__name__}: {exc}"))
    count = len([path for path in folder.iterdir() if path.is_file()])
    return GateResult(gate=ARTIFACT, passed=True, detail=f"{count} files loaded, checksums match")


def _smoke_gate(folder: Path, version: ModelVersion, *, trust_pickle: bool) -> GateResult:
    descriptor = ModelDescriptor.model_validate(version.descriptor)
    example, source = _example_input(descriptor)
    if example is None:
        return GateResult(
            gate=SMOKE,
            passed=False,
            detail="the version has no example_input and no signature inputs to build one from; "
            "register it with an example (the SDK takes X=...)",
        )
    try:
        # The loader serving and the SDK use: it verifies the checksums again and refuses pickle.
        loaded = load_model_folder(folder, trust_pickle=trust_pickle)
        prediction = loaded.predict([example])
    except KilnError as exc:
        return GateResult(gate=SMOKE, passed=False, detail=_short(exc.message))
    except Exception as exc:
        return GateResult(
            gate=SMOKE, passed=False, detail=_short(f"prediction failed: {type(exc).__name__}: {exc}")
        )
    count = len(prediction) if hasattr(prediction, "__len__") else 1
    return GateResult(gate=SMOKE, passed=True, detail=f"predicted {count} row(s) on {source}")


def _example_input(descriptor: ModelDescriptor) -> tuple[dict[str, Scalar | None] | None, str]:
    if descriptor.example_input:
        return dict(descriptor.example_input), "the example input"
    if not descriptor.signature.inputs:
        return None, ""
    return {
        spec.name: _typical(spec) for spec in descriptor.signature.inputs
    }, "an input built from the signature"


def _typical(spec: FieldSpec) -> Scalar | None:
    """A value ``spec`` accepts: its default, an allowed value, the middle of its range, else zero."""
    if spec.default is not None:
        return spec.default
    if spec.allowed:
        return spec.allowed[0]
    if spec.type is FieldType.string:
        return ""
    if spec.type is FieldType.boolean:
        return False
    low, high = spec.minimum, spec.maximum
    value = (
        (low + high) / 2 if low is not None and high is not None else low if low is not None else high or 0.0
    )
    return round(value) if spec.type is FieldType.integer else value


def _metric_gate(gate: MetricGate, metrics: dict[str, float | None]) -> GateResult:
    name = f"metric: {gate.metric} {gate.op} {gate.value:g}"
    value = metrics.get(gate.metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return GateResult(
            gate=name, passed=False, detail=f"the version has no value for metric {gate.metric!r}"
        )
    passed = _COMPARE[gate.op](value, gate.value)
    verdict = "holds" if passed else "does not hold"
    return GateResult(gate=name, passed=passed, detail=f"{gate.metric} is {value:g}: {verdict}")


def _no_worse_gate(
    session: Session, version: ModelVersion, gate: NoWorseThanProduction, metrics: dict[str, float | None]
) -> GateResult:
    production = session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_id == version.model_id,
            ModelVersion.stage == Stage.production.value,
            ModelVersion.id != version.id,
        )
    )
    if production is None:
        return GateResult(gate=NO_WORSE, passed=True, detail="no version in production to compare with")
    ours, theirs = metrics.get(gate.metric), version_metrics(session, production).get(gate.metric)
    if ours is None:
        return GateResult(
            gate=NO_WORSE, passed=False, detail=f"the version has no value for metric {gate.metric!r}"
        )
    if theirs is None:
        return GateResult(
            gate=NO_WORSE,
            passed=True,
            detail=f"production (v{production.number}) has no {gate.metric!r} to compare",
        )
    drop = theirs - ours if gate.higher_is_better else ours - theirs
    passed = drop <= gate.tolerance + 1e-12
    return GateResult(
        gate=NO_WORSE,
        passed=passed,
        detail=f"{gate.metric} {ours:g} against production v{production.number}'s {theirs:g} "
        f"(worse by {max(drop, 0):g}, tolerance {gate.tolerance:g})",
    )
