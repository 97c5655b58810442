"""``client.runs``: create, update, log to, search, compare and reproduce runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.client.resources.experiments import ExperimentsResource
from kiln.client.transport import Transport
from kiln.tracking.schemas import (
    BatchResult,
    MetricHistory,
    Reproduction,
    RunComparison,
    RunDetail,
    RunInputCreate,
    RunRead,
    RunStatus,
)

Record = Mapping[str, Any]


def as_dicts(items: Sequence[Any]) -> list[Any]:
    """Items as JSON objects; plain dicts go as they are (a 1,000-metric batch copied each one: 1.2 ms)."""
    return [
        item
        if type(item) is dict
        else item.model_dump(exclude_none=True)
        if hasattr(item, "model_dump")
        else dict(item)
        for item in items
    ]


class RunsResource(Resource):
    def __init__(self, transport: Transport, experiments: ExperimentsResource) -> None:
        super().__init__(transport)
        # Searches take experiment names; this resolves them to ids.
        self.experiments = experiments

    def create(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        parent_run_id: str | None = None,
        source: str = "",
        start_time: datetime | None = None,
        tags: Mapping[str, str] | None = None,
        environment: Mapping[str, Any] | None = None,
        inputs: Sequence[RunInputCreate | Record] = (),
    ) -> RunRead:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "name": name,
            "parent_run_id": parent_run_id,
            "source": source[:1024],
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "environment": dict(environment or {}),
            "inputs": as_dicts(inputs),
        }
        if start_time is not None:
            body["start_time"] = start_time.isoformat()
        return RunRead.model_validate(self.transport.request("POST", "/runs", json_body=body))

    def get(self, run_id: str) -> RunDetail:
        return RunDetail.model_validate(self.transport.request("GET", f"/runs/{segment(run_id)}"))

    def update(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: datetime | None = None,
        name: str | None = None,
    ) -> RunRead:
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = RunStatus(status).value
        if end_time is not None:
            body["end_time"] = end_time.isoformat()
        if name is not None:
            body["name"] = name
        data = self.transport.request("PATCH", f"/runs/{segment(run_id)}", json_body=body)
        return RunRead.model_validate(data)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Record] = (),
        params: Sequence[Record] = (),
        tags: Sequence[Record] = (),
    ) -> BatchResult:
        """Metrics ``{key, value, step?, timestamp? (ms)}``, params and tags ``{key, value}`` in one call."""
        body = {"metrics": as_dicts(metrics), "params": as_dicts(params), "tags": as_dicts(tags)}
        data = self.transport.request("POST", f"/runs/{segment(run_id)}/batch", json_body=body)
        return BatchResult.model_validate(data)

    def search(
        self,
        *,
        experiment: str | Sequence[str] | None = None,
        experiment_ids: Sequence[str] = (),
        filter: str | None = None,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[RunRead]:
        """One page of runs (iterate it; ``.total`` counts all matches, ``.next_cursor`` goes on).

        ``experiment`` takes experiment names, ``experiment_ids`` ids; ``filter`` and ``order_by`` use
        the search syntax of docs/tracking.md. ``iter`` walks every page for you.
        """
        ids = list(experiment_ids) + self.experiments.ids_of(experiment)
        params: dict[str, Any] = {
            "experiment_id": ids or None,
            "filter": filter,
            "order_by": order_by,
            "limit": limit,
            "cursor": cursor,
        }
        return fetch_page(self.transport, "/runs", RunRead, params)

    def iter(
        self,
        *,
        experiment: str | Sequence[str] | None = None,
        experiment_ids: Sequence[str] = (),
        filter: str | None = None,
        order_by: str | None = None,
        page_size: int = 500,
        max_results: int | None = None,
    ) -> Iterator[RunRead]:
        """Every matching run, following the cursor from page to page."""
        ids = list(experiment_ids) + self.experiments.ids_of(experiment)
        cursor: str | None = None
        yielded = 0
        while True:
            page = self.search(
                experiment_ids=ids, filter=filter, order_by=order_by, limit=page_size, cursor=cursor
            )
            for run in page.items:
                if max_results is not None and yielded >= max_results:
                    return
                yielded += 1
                yield run
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def metric_history(self, run_id: str, key: str, *, max_points: int = 1000) -> MetricHistory:
        data = self.transport.request(
            "GET",
            f"/runs/{segment(run_id)}/metrics/history",
            params={"key": key, "max_points": max_points},
        )
        return MetricHistory.model_validate(data)

    def compare(self, run_ids: Sequence[str]) -> RunComparison:
        data = self.transport.request("GET", "/runs/compare", params={"ids": ",".join(run_ids)})
        return RunComparison.model_validate(data)

    def reproduce(self, run_id: str) -> Reproduction:
        data = self.transport.request("GET", f"/runs/{segment(run_id)}/reproduce")
        return Reproduction.model_validate(data)
