"""Prediction log and feedback REST API: /api/v1/predictions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import StreamingResponse

from kiln.core.actor import Actor
from kiln.core.deps import DatabaseDep, SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.serving import predictions
from kiln.serving.schemas import (
    MAX_FEEDBACK_BATCH,
    FeedbackBatchResult,
    FeedbackIn,
    FeedbackItem,
    FeedbackRecorded,
    PredictionFilter,
    PredictionRead,
)

router = APIRouter(
    prefix="/api/v1/predictions",
    tags=["predictions"],
    responses=error_responses(400, 401, 403, 404, 413, 422, 429),
)

DeploymentsRead = Annotated[Actor, Depends(require(Permission.deployments_read))]
PredictionsCreate = Annotated[Actor, Depends(require(Permission.predictions_create))]
Filters = Annotated[PredictionFilter, Query()]


@router.get("", response_model=Page[PredictionRead])
def list_predictions(
    session: SessionDep, actor: DeploymentsRead, filters: Filters, page: PageQuery
) -> Page[PredictionRead]:
    """Logged predictions, newest first, each with its feedback; ``from`` and ``to`` are ISO 8601."""
    return predictions.list_predictions(session, actor, filters, page)


@router.get("/export.csv", response_class=StreamingResponse)
def export_predictions(actor: DeploymentsRead, db: DatabaseDep, filters: Filters) -> StreamingResponse:
    """The same filters as the list, every match, oldest first, as CSV (streamed)."""

    def lines() -> Iterator[str]:
        # Its own unit of work: the response outlives the request's session.
        with db.unit_of_work() as session:
            yield from predictions.export_csv(session, actor, filters)

    return StreamingResponse(
        lines(),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="kiln-predictions.csv"'},
    )


@router.post("/feedback", response_model=FeedbackBatchResult)
def record_feedback_batch(
    session: SessionDep,
    actor: PredictionsCreate,
    items: Annotated[list[FeedbackItem], Body(min_length=1, max_length=MAX_FEEDBACK_BATCH)],
) -> FeedbackBatchResult:
    """Outcomes for up to 1,000 predictions; known ids are stored, unknown ones answered."""
    return predictions.record_feedback(session, actor, items)


@router.get("/{request_id}", response_model=PredictionRead)
def get_prediction(request_id: str, session: SessionDep, actor: DeploymentsRead) -> PredictionRead:
    return predictions.get_prediction(session, actor, request_id)


@router.post("/{request_id}/feedback", response_model=FeedbackRecorded)
def record_feedback(
    request_id: str, data: FeedbackIn, session: SessionDep, actor: PredictionsCreate
) -> FeedbackRecorded:
    """The actual outcome of one prediction; a later one replaces it (``replaced`` says so)."""
    return predictions.record_one_feedback(session, actor, request_id, data)
