"""Run search: filter expressions, ordering and pagination, answered from indexed tables only."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.core.ids import from_millis
from kiln.core.permissions import Permission
from kiln.tracking.access import require_experiment, visible_experiment_ids
from kiln.tracking.models import LatestMetric, Param, Run, RunTag
from kiln.tracking.search_filter import Clause, OrderBy, parse_filter, parse_order_by
from kiln.tracking.service import RUN_CHILDREN

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[Run]
    next_cursor: str | None
    total: int


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Invalid("cursor is not valid; pass the next_cursor of a previous page unchanged") from exc
    # bool is an int in Python; offsets past 2**62 overflow the databases' 64-bit integers.
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 2**62:
        raise Invalid("cursor is not valid; pass the next_cursor of a previous page unchanged")
    return offset


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "like":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ilike":
        return column.ilike(value)  # type: ignore[no-any-return]
    raise Invalid(f"unsupported comparison {op!r}")


def _condition(clause: Clause) -> ColumnElement[bool]:
    if clause.entity == "metric":
        sub = select(LatestMetric.run_id).where(
            LatestMetric.key == clause.key, _compare(LatestMetric.value, clause.op, clause.value)
        )
        return Run.id.in_(sub)
    if clause.entity in ("param", "tag"):
        model: Any = Param if clause.entity == "param" else RunTag
        sub = select(model.run_id).where(
            model.key == clause.key, _compare(model.value, clause.op, clause.value)
        )
        return Run.id.in_(sub)
    column = getattr(Run, clause.key)
    if clause.key in ("start_time", "end_time") and isinstance(clause.value, float):
        return _compare(column, clause.op, from_millis(int(clause.value)))
    return _compare(column, clause.op, clause.value)


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


def search_runs(
    session: Session,
    actor: Actor,
    *,
    experiment_ids: Sequence[str] = (),
    filter: str | None = None,
    order_by: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> RunPage:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    conditions = [_condition(clause) for clause in parse_filter(filter)]
    if experiment_ids:
        for experiment_id in dict.fromkeys(experiment_ids):
            require_experiment(session, actor, experiment_id, Permission.runs_read)
        conditions.append(Run.experiment_id.in_(experiment_ids))
    else:
        visible = visible_experiment_ids(session, actor)
        if visible is not None:
            conditions.append(Run.experiment_id.in_(visible))
    offset = decode_cursor(cursor)
    total = session.scalar(select(func.count()).select_from(Run).where(*conditions)) or 0
    query = _ordered(select(Run).where(*conditions), parse_order_by(order_by))
    runs = list(session.scalars(query.offset(offset).limit(limit + 1).options(*RUN_CHILDREN)))
    next_cursor = encode_cursor(offset + limit) if len(runs) > limit else None
    return RunPage(runs=runs[:limit], next_cursor=next_cursor, total=total)
