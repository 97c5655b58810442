"""The prediction log, read: lists, one prediction with its feedback, CSV export; and feedback in.

Every read is narrowed to the caller's projects (``kiln.auth.projects.scoped``): a prediction of a
project the caller is not a member of is not found, exactly like one that does not exist. Feedback
for such a prediction is reported as an unknown request id, never as a refusal that would reveal
the id exists.

Feedback is not audited (docs/serving.md, "Prediction log and feedback"): it is outcome telemetry
that automation sends in bulk, thousands of rows a call, and an audit record per outcome would queue
every batch behind the audit chain's head lock. Who sent each outcome, and when, is on the row itself
(``received_by``, ``received_at``), and a replaced outcome says so in the answer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kiln.auth.permissions import allows
from kiln.auth.projects import project_role, scoped
from kiln.core.actor import Actor
from kiln.core.db import upsert_rows
from kiln.core.errors import Invalid, NotFound, PermissionDenied
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, decode_keyset, encode_keyset
from kiln.core.permissions import Permission
from kiln.serving.models import CALLER_LENGTH, Prediction, PredictionFeedback
from kiln.serving.schemas import (
    MAX_FEEDBACK_BATCH,
    REQUEST_ID_LENGTH,
    FeedbackBatchResult,
    FeedbackIn,
    FeedbackItem,
    FeedbackItemResult,
    FeedbackRead,
    FeedbackRecorded,
    FeedbackStatus,
    PredictionFilter,
    PredictionRead,
)

CSV_FIELDS = (
    "request_id",
    "created_at",
    "deployment",
    "model_name",
    "model_version_number",
    "model_version_id",
    "status",
    "latency_ms",
    "caller",
    "error",
    "inputs",
    "outputs",
    "actual",
    "values",
    "feedback_at",
)
_EXPORT_PAGE = 1000
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection): free text
# (an error message, a caller's name) is prefixed with a quote so it stays text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _with_feedback() -> Select[Any]:
    # Select[Any]: the rest of the chain (auth's ``scoped``) takes a one-parameter Select.
    statement = cast(Select[Any], select(Prediction, PredictionFeedback))
    return statement.outerjoin(PredictionFeedback, PredictionFeedback.request_id == Prediction.request_id)


def _filtered(session: Session, actor: Actor, filters: PredictionFilter) -> Select[Any]:
    statement = scoped(session, actor, _with_feedback(), Prediction.project_id)
    if filters.deployment:
        statement = statement.where(Prediction.deployment == filters.deployment)
    if filters.model:
        statement = statement.where(Prediction.model_name == filters.model)
    if filters.version:
        if filters.version.isdigit():
            statement = statement.where(Prediction.model_version_number == int(filters.version))
        else:
            statement = statement.where(Prediction.model_version_id == filters.version)
    if filters.status:
        statement = statement.where(Prediction.status == filters.status.value)
    if filters.from_:
        statement = statement.where(Prediction.created_at >= filters.from_)
    if filters.to:
        statement = statement.where(Prediction.created_at < filters.to)
    return statement


def prediction_read(prediction: Prediction, feedback: PredictionFeedback | None) -> PredictionRead:
    read = PredictionRead.model_validate(prediction)
    if feedback is not None:
        read.feedback = FeedbackRead.model_validate(feedback)
    return read


def list_predictions(
    session: Session, actor: Actor, filters: PredictionFilter, page: PageParams
) -> Page[PredictionRead]:
    """Matching predictions, newest logged first, each with its feedback; follow ``next_cursor``
    for older ones (new predictions arriving meanwhile do not shift later pages)."""
    statement = _filtered(session, actor, filters)
    after = decode_keyset(page.cursor)
    if after is not None:
        statement = statement.where(Prediction.seq < after)
    rows = session.execute(statement.order_by(Prediction.seq.desc()).limit(page.limit + 1)).all()
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(
        items=[prediction_read(prediction, feedback) for prediction, feedback in rows],
        next_cursor=encode_keyset(rows[-1][0].seq) if more else None,
    )


def get_prediction(session: Session, actor: Actor, request_id: str) -> PredictionRead:
    """One prediction with its feedback; ``NotFound`` when it does not exist or the caller may not see it."""
    statement = scoped(session, actor, _with_feedback(), Prediction.project_id)
    row = session.execute(statement.where(Prediction.request_id == request_id)).first()
    if row is None:
        raise NotFound(f"prediction {request_id!r} not found")
    return prediction_read(*row)


def export_csv(session: Session, actor: Actor, filters: PredictionFilter) -> Iterator[str]:
    """Matching predictions oldest first as CSV (a header, then one line per prediction with its
    feedback), read a page at a time so an export of millions never sits in memory."""
    yield _csv_line(CSV_FIELDS)
    statement = _filtered(session, actor, filters)
    after = 0
    while True:
        rows = session.execute(
            statement.where(Prediction.seq > after).order_by(Prediction.seq).limit(_EXPORT_PAGE)
        ).all()
        if not rows:
            return
        for prediction, feedback in rows:
            yield _csv_line(_csv_row(prediction, feedback))
        after = rows[-1][0].seq


def _csv_row(prediction: Prediction, feedback: PredictionFeedback | None) -> tuple[Any, ...]:
    return (
        prediction.request_id,
        prediction.created_at.isoformat(),
        _text(prediction.deployment),
        _text(prediction.model_name),
        prediction.model_version_number,
        prediction.model_version_id,
        prediction.status,
        prediction.latency_ms,
        _text(prediction.caller),
        _text(prediction.error),
        _json_cell(prediction.inputs),
        _json_cell(prediction.outputs),
        _json_cell(feedback.actual) if feedback else None,
        _json_cell(feedback.values) if feedback else None,
        feedback.received_at.isoformat() if feedback else None,
    )


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _text(value: str | None) -> str | None:
    if value and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _json_cell(value: Any) -> str | None:
    # JSON text starts with {, [, " or a digit (or '-' for a negative number, which is only data).
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


# -- feedback ---------------------------------------------------------------------------------


def record_feedback(session: Session, actor: Actor, items: Sequence[FeedbackItem]) -> FeedbackBatchResult:
    """Store the actual outcomes of up to ``MAX_FEEDBACK_BATCH`` predictions in one transaction.

    Partially accepted, on purpose: outcomes for known request ids are stored and the unknown ids
    are answered (``unknown``, and per item), so automation can retry or drop exactly those. An id
    the caller may not see is unknown. A later outcome for the same id replaces the earlier one
    (also within one batch: the last wins), and its item says ``replaced``.
    """
    if not items:
        raise Invalid("send at least one feedback item: [{request_id, actual, values?}]")
    if len(items) > MAX_FEEDBACK_BATCH:
        raise Invalid(
            f"a feedback batch holds at most {MAX_FEEDBACK_BATCH} items, got {len(items)}; split it"
        )
    ids = {item.request_id for item in items}
    known = _feedback_targets(session, actor, ids)
    already = set(
        session.scalars(select(PredictionFeedback.request_id).where(PredictionFeedback.request_id.in_(known)))
    )
    now = utcnow()
    received_by = actor.label_within(CALLER_LENGTH)
    latest: dict[str, dict[str, Any]] = {}
    results = []
    for item in items:
        if item.request_id not in known:
            results.append(FeedbackItemResult(request_id=item.request_id, status=FeedbackStatus.unknown))
            continue
        replaced = item.request_id in already or item.request_id in latest
        latest[item.request_id] = {
            "request_id": item.request_id,
            "actual": item.actual,
            "values": item.values,
            "received_at": now,
            "received_by": received_by,
            "received_by_user_id": actor.user_id,
        }
        status = FeedbackStatus.replaced if replaced else FeedbackStatus.recorded
        results.append(FeedbackItemResult(request_id=item.request_id, status=status))
    upsert_rows(
        session,
        PredictionFeedback.__table__,
        list(latest.values()),
        key=["request_id"],
        update=["actual", "values", "received_at", "received_by", "received_by_user_id"],
    )
    unknown = [r.request_id for r in results if r.status is FeedbackStatus.unknown]
    return FeedbackBatchResult(
        recorded=len(results) - len(unknown),
        replaced=sum(r.status is FeedbackStatus.replaced for r in results),
        unknown=list(dict.fromkeys(unknown)),
        items=results,
    )


def record_one_feedback(
    session: Session, actor: Actor, request_id: str, data: FeedbackIn
) -> FeedbackRecorded:
    """The actual outcome of one prediction; ``NotFound`` for an id the caller does not know."""
    if len(request_id) > REQUEST_ID_LENGTH:
        raise NotFound(f"prediction {request_id!r} not found")
    item = FeedbackItem(request_id=request_id, actual=data.actual, values=data.values)
    result = record_feedback(session, actor, [item])
    if result.unknown:
        raise NotFound(f"prediction {request_id!r} not found")
    stored = session.get(PredictionFeedback, request_id, populate_existing=True)
    assert stored is not None
    read = FeedbackRead.model_validate(stored)
    return FeedbackRecorded(
        request_id=request_id, replaced=result.items[0].status is FeedbackStatus.replaced, **read.model_dump()
    )


def _feedback_targets(session: Session, actor: Actor, ids: set[str]) -> set[str]:
    """The request ids among ``ids`` whose predictions the actor may give feedback on."""
    rows = session.execute(
        select(Prediction.request_id, Prediction.project_id).where(Prediction.request_id.in_(ids))
    )
    by_project: dict[str, list[str]] = {}
    for request_id, project_id in rows:
        by_project.setdefault(project_id, []).append(request_id)
    known: set[str] = set()
    for project_id, request_ids in by_project.items():
        role = project_role(session, actor, project_id)
        if role is None:
            continue  # not a member: these predictions do not exist for the caller
        if not allows(role, Permission.predictions_create):
            raise PermissionDenied(
                f"your role in this project ({role}) does not allow {Permission.predictions_create}"
            )
        known.update(request_ids)
    return known
