"""Drift settings per registered model, and per version: the thresholds its drift reports use.

A model's settings apply to every version of it; a version's own settings replace them whole for
that version (no merging: what a report used is one readable document). Written by people with
monitors:write in the model's project, checked against the signature on write (a feature that is
not an input, or a method that does not fit a feature's kind, is a 422 naming it, not a report job
failing at night), and audited. Reports computed afterwards use them and record which ones they used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.errors import NotFound, ValidationFailed
from kiln.core.permissions import Permission
from kiln.monitoring.drift_models import SOURCE_LENGTH, DriftSettings
from kiln.monitoring.drift_schemas import CATEGORICAL_METHODS, NUMERIC_METHODS, DriftMethod, DriftThresholds
from kiln.monitoring.drift_settings_schemas import DriftSettingsRead, SettingsSource
from kiln.registry.model_format import FieldType, ModelDescriptor
from kiln.registry.models import ModelVersion, RegisteredModel
from kiln.registry.service import find_version, get_model

PREDICTION = "prediction"  # the model's answers, watched like a feature (drift_service.PREDICTION)
_NUMERIC_TYPES = frozenset({FieldType.number, FieldType.integer})
MODEL_WIDE = 0  # version_number of the model's own settings


def effective_thresholds(session: Session, version_id: str) -> tuple[DriftThresholds, str]:
    """The thresholds a report of ``version_id`` uses and where they came from: the version's
    settings, else its model's, else the defaults."""
    model_of_version = select(ModelVersion.model_id).where(ModelVersion.id == version_id).scalar_subquery()
    row = session.execute(
        select(DriftSettings, RegisteredModel.name)
        .join(RegisteredModel, RegisteredModel.id == DriftSettings.model_id)
        .where(
            or_(
                DriftSettings.model_version_id == version_id,
                and_(DriftSettings.model_id == model_of_version, DriftSettings.version_number == MODEL_WIDE),
            )
        )
        .order_by(DriftSettings.version_number.desc())
        .limit(1)
    ).first()
    if row is None:
        return DriftThresholds(), SettingsSource.defaults.value
    settings, name = row
    return DriftThresholds.model_validate(settings.thresholds), _source(settings, name)


def get_drift_settings(
    session: Session, actor: Actor, model: str, *, version: int | None = None, project: str | None = None
) -> DriftSettingsRead:
    """What applies to the model (or one version of it): its stored settings or the defaults."""
    found = get_model(session, actor, model, project=project, permission=Permission.monitors_read)
    number = MODEL_WIDE if version is None else _version(session, found, version).number
    return _read(found, version, _applying(session, found.id, number))


def put_drift_settings(
    session: Session,
    actor: Actor,
    model: str,
    data: DriftThresholds,
    *,
    version: int | None = None,
    project: str | None = None,
) -> DriftSettingsRead:
    """Store the model's (or one version's) settings, replacing what was there."""
    found = get_model(session, actor, model, project=project, permission=Permission.monitors_write)
    target = None if version is None else _version(session, found, version)
    versions = [target] if target is not None else _versions(session, found.id)
    check_thresholds(data, _feature_kinds(versions), found.name)
    number = MODEL_WIDE if target is None else target.number
    stored = _stored(session, found.id, number)
    before = None if stored is None else dict(stored.thresholds)
    if stored is None:
        stored = DriftSettings(
            project_id=found.project_id,
            model_id=found.id,
            model_version_id=None if target is None else target.id,
            version_number=number,
        )
        session.add(stored)
    stored.thresholds = data.model_dump(mode="json")
    stored.updated_by = actor.label_within(256)
    session.flush()
    audit.record(
        session,
        actor,
        "monitoring.drift_settings_updated",
        "drift_settings",
        stored.id,
        {"model": found.name, "version": version, "before": before, "after": stored.thresholds},
    )
    return _read(found, version, stored)


def delete_drift_settings(
    session: Session, actor: Actor, model: str, *, version: int | None = None, project: str | None = None
) -> None:
    """Drop the model's (or a version's) own settings: the model's, or the defaults, apply again."""
    found = get_model(session, actor, model, project=project, permission=Permission.monitors_write)
    number = MODEL_WIDE if version is None else _version(session, found, version).number
    stored = _stored(session, found.id, number)
    if stored is None:
        whose = f"model {found.name!r}" + ("" if version is None else f" v{version}")
        raise NotFound(f"{whose} has no drift settings of its own")
    audit.record(
        session,
        actor,
        "monitoring.drift_settings_deleted",
        "drift_settings",
        stored.id,
        {"model": found.name, "version": version, "before": dict(stored.thresholds)},
    )
    session.delete(stored)
    session.flush()


def feature_kinds(
    session: Session, actor: Actor, model: str, *, version: int | None = None, project: str | None = None
) -> dict[str, str]:
    """``numeric`` or ``categorical`` per feature the settings of the model (or a version) may
    name: what a form offers, and what a write is checked against."""
    found = get_model(session, actor, model, project=project, permission=Permission.monitors_read)
    versions = _versions(session, found.id) if version is None else [_version(session, found, version)]
    return _feature_kinds(versions)


def check_thresholds(data: DriftThresholds, kinds: dict[str, str], model: str) -> None:
    """Every feature named is an input of the model (or ``prediction``), and every method chosen
    fits the kind of each feature it would judge."""
    known = ", ".join(sorted(kinds)) or "none: it has no versions yet"
    for field, names in (("features", list(data.features)), ("ignore", data.ignore)):
        for name in names:
            if name not in kinds:
                raise ValidationFailed(
                    f"feature {name!r} is not an input of model {model!r} (its features: {known})",
                    details={"field": field, "feature": name},
                )
    for name, limits in data.features.items():
        _check_method(limits.method, name, kinds[name], field="features")
    judged_by_default = set(kinds) - set(data.features) - set(data.ignore)
    for name in sorted(judged_by_default):
        _check_method(data.default.method, name, kinds[name], field="default")


def _check_method(method: DriftMethod, feature: str, kind: str, *, field: str) -> None:
    allowed = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
    if method is DriftMethod.auto or method in allowed:
        return
    fitting = ", ".join(sorted(m.value for m in allowed))
    raise ValidationFailed(
        f"method {method.value} does not apply to {kind} feature {feature!r}; use auto, {fitting}",
        details={"field": field, "feature": feature},
    )


def _feature_kinds(versions: list[ModelVersion]) -> dict[str, str]:
    """``numeric`` or ``categorical`` per input of the versions (the newest's kind where they
    disagree), and the model's predictions."""
    kinds: dict[str, str] = {}
    for version in sorted(versions, key=lambda v: v.number):
        signature = ModelDescriptor.model_validate(version.descriptor).signature
        for spec in signature.inputs:
            kinds[spec.name] = "numeric" if spec.type in _NUMERIC_TYPES else "categorical"
        kinds[PREDICTION] = "numeric" if signature.outputs.kind == "value" else "categorical"
    return kinds


def _version(session: Session, model: RegisteredModel, number: int) -> ModelVersion:
    version = find_version(session, model, str(number))
    if version is None:
        raise NotFound(f"model {model.name!r} has no version {number}")
    return version


def _versions(session: Session, model_id: str) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).where(ModelVersion.model_id == model_id)))


def _stored(session: Session, model_id: str, number: int) -> DriftSettings | None:
    return session.scalar(
        select(DriftSettings).where(
            DriftSettings.model_id == model_id, DriftSettings.version_number == number
        )
    )


def _applying(session: Session, model_id: str, number: int) -> DriftSettings | None:
    """The version's settings, else the model's (``number`` 0 asks for the model's only)."""
    return session.scalar(
        select(DriftSettings)
        .where(DriftSettings.model_id == model_id, DriftSettings.version_number.in_({number, MODEL_WIDE}))
        .order_by(DriftSettings.version_number.desc())
        .limit(1)
    )


def _read(model: RegisteredModel, version: int | None, stored: DriftSettings | None) -> DriftSettingsRead:
    values: dict[str, Any] = {"model": model.name, "version": version}
    if stored is None:
        return DriftSettingsRead(**values, source=SettingsSource.defaults, thresholds=DriftThresholds())
    source = SettingsSource.model if stored.version_number == MODEL_WIDE else SettingsSource.version
    return DriftSettingsRead(
        **values,
        source=source,
        thresholds=DriftThresholds.model_validate(stored.thresholds),
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
    )


def _source(settings: DriftSettings, model: str) -> str:
    whose = f"model {model!r}" + (
        "" if settings.version_number == MODEL_WIDE else f" v{settings.version_number}"
    )
    text = f"{whose} drift settings of {settings.updated_at:%Y-%m-%d %H:%M:%S} UTC by {settings.updated_by}"
    return text[:SOURCE_LENGTH]
