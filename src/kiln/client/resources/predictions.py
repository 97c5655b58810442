"""``client.predictions``: the prediction log (list, one with its feedback, CSV) and feedback in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.resources.base import Resource, segment
from kiln.serving.schemas import (
    MAX_FEEDBACK_BATCH,
    FeedbackBatchResult,
    FeedbackItem,
    FeedbackRecorded,
    PredictionFilter,
    PredictionRead,
    PredictionStatus,
)


def _filters(
    deployment: str | None,
    model: str | None,
    version: int | str | None,
    status: PredictionStatus | str | None,
    from_: datetime | str | None,
    to: datetime | str | None,
) -> dict[str, str]:
    # Checked here as the server would, so a mistake is raised before any request is sent.
    data: dict[str, Any] = {
        "deployment": deployment,
        "model": model,
        "status": status,
        "from": from_,
        "to": to,
    }
    data["version"] = None if version is None else str(version)
    return PredictionFilter.model_validate(data).query_params()


class PredictionsResource(Resource):
    def list(
        self,
        *,
        deployment: str | None = None,
        model: str | None = None,
        version: int | str | None = None,
        status: PredictionStatus | str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[PredictionRead]:
        """One page of logged predictions, newest first, each with its feedback.

        ``version`` is a model version's number or id; ``status`` is "ok", "invalid" or "error";
        ``from_`` (inclusive) and ``to`` (exclusive) bound the time, UTC unless they say otherwise.
        ``iter`` walks every page.
        """
        params: dict[str, Any] = _filters(deployment, model, version, status, from_, to)
        params.update(limit=limit, cursor=cursor)
        return fetch_page(self.transport, "/predictions", PredictionRead, params)

    def iter(
        self,
        *,
        deployment: str | None = None,
        model: str | None = None,
        version: int | str | None = None,
        status: PredictionStatus | str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        page_size: int = 500,
    ) -> Iterator[PredictionRead]:
        """Every matching prediction, newest first, following the cursor from page to page."""
        return iterate(
            lambda cursor: self.list(
                deployment=deployment,
                model=model,
                version=version,
                status=status,
                from_=from_,
                to=to,
                limit=page_size,
                cursor=cursor,
            )
        )

    def get(self, request_id: str) -> PredictionRead:
        """One prediction by the request id its caller was given, with its feedback (``kiln.NotFound``
        when it was not logged, or is in a project the caller is not a member of)."""
        return PredictionRead.model_validate(
            self.transport.request("GET", f"/predictions/{segment(request_id)}")
        )

    def export_csv(
        self,
        path: str | Path | None = None,
        *,
        deployment: str | None = None,
        model: str | None = None,
        version: int | str | None = None,
        status: PredictionStatus | str | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> str:
        """Every matching prediction, oldest first, as CSV (with its feedback's columns).

        Returns the CSV text; with ``path``, the export is streamed into that file instead and the
        file's path is returned.
        """
        params = _filters(deployment, model, version, status, from_, to)
        with self.transport.stream("GET", "/predictions/export.csv", params=params) as response:
            if path is None:
                response.read()
                return response.text
            target = Path(path)
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            return str(target)

    def feedback(
        self, request_id: str, actual: Any, values: Mapping[str, Any] | None = None
    ) -> FeedbackRecorded:
        """The actual outcome of one prediction (and business values of it, if any); a later call for
        the same request id replaces it (``replaced`` says so). Unknown ids raise ``kiln.NotFound``."""
        body = {"actual": actual, "values": dict(values) if values is not None else None}
        data = self.transport.request("POST", f"/predictions/{segment(request_id)}/feedback", json_body=body)
        return FeedbackRecorded.model_validate(data)

    def feedback_batch(self, items: Iterable[FeedbackItem | Mapping[str, Any]]) -> FeedbackBatchResult:
        """Outcomes for many predictions: ``[{"request_id", "actual", "values"?}, ...]``.

        Sent 1,000 a request; known ids are stored and unknown ones answered in ``unknown`` (and per
        item), so the caller can retry or drop exactly those.
        """
        batch = [FeedbackItem.model_validate(item).model_dump(mode="json") for item in items]
        total = FeedbackBatchResult(recorded=0, replaced=0, unknown=[], items=[])
        for start in range(0, len(batch), MAX_FEEDBACK_BATCH):
            chunk = batch[start : start + MAX_FEEDBACK_BATCH]
            part = FeedbackBatchResult.model_validate(
                self.transport.request("POST", "/predictions/feedback", json_body=chunk)
            )
            total.recorded += part.recorded
            total.replaced += part.replaced
            total.unknown.extend(part.unknown)
            total.items.extend(part.items)
        return total
