"""Searching model versions with the tracking filter grammar (``kiln.tracking.search_filter``).

``params.n_estimators = 50 and metrics.auc > 0.9 and stage = 'production'``: params and metrics
are the version's own copies (``model_version_params``, ``model_version_metrics``), so a version
stays findable after its run is gone; ``tags.x`` matches the version's tags or its model's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from kiln.auth.projects import resolve_project
from kiln.core.actor import Actor
from kiln.core.ids import from_millis
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.registry.access import visible_models
from kiln.registry.models import ModelVersion, ModelVersionMetric, ModelVersionParam, RegisteredModel
from kiln.tracking.search_filter import Clause, FilterGrammar, compare, compile_filter

# ``name`` is the model's name; the others are the version's columns.
VERSION_GRAMMAR = FilterGrammar(
    subject="model version",
    attributes=frozenset(
        {
            "name",
            "label",
            "stage",
            "status",
            "flavor",
            "serialization",
            "number",
            "created_at",
            "created_by",
            "source",
        }
    ),
    time_attributes=frozenset({"created_at"}),
    number_attributes=frozenset({"number"}),
)


class _VersionTables:
    """Compiles filter clauses on the registry tables."""

    def metric(self, clause: Clause) -> ColumnElement[bool]:
        sub = select(ModelVersionMetric.version_id).where(
            ModelVersionMetric.key == clause.key, compare(ModelVersionMetric.value, clause.op, clause.value)
        )
        return ModelVersion.id.in_(sub)

    def param(self, clause: Clause) -> ColumnElement[bool]:
        sub = select(ModelVersionParam.version_id).where(
            ModelVersionParam.key == clause.key, compare(ModelVersionParam.value, clause.op, clause.value)
        )
        return ModelVersion.id.in_(sub)

    def tag(self, clause: Clause) -> ColumnElement[bool]:
        return or_(
            compare(ModelVersion.tags[clause.key].as_string(), clause.op, clause.value),
            compare(RegisteredModel.tags[clause.key].as_string(), clause.op, clause.value),
        )

    def attribute(self, clause: Clause) -> ColumnElement[bool]:
        if clause.key == "name":
            return compare(RegisteredModel.name, clause.op, clause.value)
        column = getattr(ModelVersion, clause.key)
        if clause.key in VERSION_GRAMMAR.time_attributes and isinstance(clause.value, float):
            return compare(column, clause.op, from_millis(int(clause.value)))
        return compare(column, clause.op, clause.value)


_TABLES = _VersionTables()


def search_versions(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    filter: str | None = None,
    project: str | None = None,
) -> Page[ModelVersion]:
    """Versions of the actor's models matching ``filter``, newest first, with ``total``."""
    conditions = compile_filter(filter, VERSION_GRAMMAR, _TABLES)
    query: Select[Any] = select(ModelVersion).join(
        RegisteredModel, RegisteredModel.id == ModelVersion.model_id
    )
    query = visible_models(session, actor, query.where(*conditions))
    if project is not None:
        project_row = resolve_project(session, actor, project, Permission.models_read)
        query = query.where(RegisteredModel.project_id == project_row.id)
    ordered = query.order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    return paginate(session, ordered, page, with_total=True)
