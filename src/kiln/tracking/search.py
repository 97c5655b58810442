"""Run search: filter expressions, ordering and pagination, answered from indexed tables only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from kiln.core.actor import Actor
from kiln.core.ids import from_millis
from kiln.core.pagination import MAX_LIMIT, Page, PageParams, decode_cursor, encode_cursor
from kiln.core.permissions import Permission
from kiln.tracking.access import require_experiment, visible_runs
from kiln.tracking.models import LatestMetric, Param, Run, RunTag
from kiln.tracking.search_filter import RUN_GRAMMAR, Clause, OrderBy, compare, compile_filter, parse_order_by
from kiln.tracking.service import RUN_CHILDREN

# The largest page the API serves (kept under this name for callers of earlier releases).
MAX_PAGE = MAX_LIMIT


class _RunTables:
    """Compiles filter clauses on the run tables (latest metrics, params, tags, the run's columns)."""

    def metric(self, clause: Clause) -> ColumnElement[bool]:
        sub = select(LatestMetric.run_id).where(
            LatestMetric.key == clause.key, compare(LatestMetric.value, clause.op, clause.value)
        )
        return Run.id.in_(sub)

    def param(self, clause: Clause) -> ColumnElement[bool]:
        return Run.id.in_(self._keyed(Param, clause))

    def tag(self, clause: Clause) -> ColumnElement[bool]:
        return Run.id.in_(self._keyed(RunTag, clause))

    @staticmethod
    def _keyed(model: Any, clause: Clause) -> Select[Any]:
        return select(model.run_id).where(
            model.key == clause.key, compare(model.value, clause.op, clause.value)
        )

    def attribute(self, clause: Clause) -> ColumnElement[bool]:
        column = getattr(Run, clause.key)
        if clause.key in RUN_GRAMMAR.time_attributes and isinstance(clause.value, float):
            return compare(column, clause.op, from_millis(int(clause.value)))
        return compare(column, clause.op, clause.value)


_RUN_TABLES = _RunTables()


def _ordered(query: Select[Run], order: OrderBy) -> Select[Run]:
    if order.entity == "attribute":
        column: Any = getattr(Run, order.key)
    else:
        model: Any = aliased(LatestMetric if order.entity == "metric" else Param)
        query = query.outerjoin(model, and_(model.run_id == Run.id, model.key == order.key))
        column = model.value
    # Runs that lack the metric or param sort last either way.
    primary = column.desc().nulls_last() if order.descending else column.asc().nulls_last()
    return query.order_by(primary, Run.start_time.desc(), Run.id.desc())


def list_runs(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    experiment_ids: Sequence[str] = (),
    filter: str | None = None,
    order_by: str | None = None,
) -> Page[Run]:
    """One page of the runs matching ``filter`` (docs/tracking.md), with ``total`` counting all matches.

    Offset cursors: an ordering by a metric or param would need NULL-aware composite keys.
    """
    conditions = compile_filter(filter, RUN_GRAMMAR, _RUN_TABLES)
    if experiment_ids:
        for experiment_id in dict.fromkeys(experiment_ids):
            require_experiment(session, actor, experiment_id, Permission.runs_read)
        query = select(Run).where(Run.experiment_id.in_(experiment_ids), *conditions)
    else:
        query = visible_runs(session, actor, select(Run).where(*conditions))
    offset = decode_cursor(page.cursor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = _ordered(query, parse_order_by(order_by))
    runs = list(session.scalars(ordered.offset(offset).limit(page.limit + 1).options(*RUN_CHILDREN)))
    next_cursor = encode_cursor(offset + page.limit) if len(runs) > page.limit else None
    return Page(items=runs[: page.limit], next_cursor=next_cursor, total=total)
