"""``kiln.Client``: one method per REST call of the tracking API, returning the API's schemas."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kiln.client import artifacts
from kiln.client.config import get_token, get_tracking_uri
from kiln.client.pages import ResultPage
from kiln.client.transport import Transport
from kiln.core.errors import Conflict, NotFound
from kiln.core.schemas import Page
from kiln.tracking.schemas import (
    ArtifactRead,
    BatchResult,
    ExperimentRead,
    MetricHistory,
    Reproduction,
    RunComparison,
    RunDetail,
    RunInputCreate,
    RunRead,
    RunStatus,
)

Record = Mapping[str, Any]


def _segment(value: str) -> str:
    return quote(value, safe="")


def _as_dicts(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else dict(item) for item in items
    ]


class Client:
    """Low-level access to a Kiln server; every method is one HTTP request (or a page-following loop).

    >>> client = kiln.Client("http://127.0.0.1:8000")
    >>> client.get_run(run_id).metrics
    """

    def __init__(self, url: str | None = None, *, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = (url or get_tracking_uri()).rstrip("/")
        self.transport = Transport(self.url, token=token or get_token(self.url), timeout=timeout)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- experiments --------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> ExperimentRead:
        """Create an experiment in ``project`` (id or name; default: the key's project, else "default")."""
        body: dict[str, Any] = {"name": name, "description": description, "tags": dict(tags or {})}
        if project is not None:
            body["project"] = project
        return ExperimentRead.model_validate(self.transport.request("POST", "/experiments", json_body=body))

    def get_experiment(self, experiment_id: str) -> ExperimentRead:
        data = self.transport.request("GET", f"/experiments/{_segment(experiment_id)}")
        return ExperimentRead.model_validate(data)

    def get_experiment_by_name(self, name: str, *, project: str | None = None) -> ExperimentRead:
        """The experiment called ``name`` (in ``project``); raises ``kiln.NotFound`` when there is none."""
        params: dict[str, Any] = {"name": name, "limit": 1}
        if project is not None:
            params["project"] = project
        page = self.transport.request("GET", "/experiments", params=params)
        if not page["items"]:
            raise NotFound(f"experiment {name!r} not found")
        return ExperimentRead.model_validate(page["items"][0])

    def get_or_create_experiment(self, name: str, *, project: str | None = None) -> ExperimentRead:
        """Race-safe: if another process creates it first (409), fetch theirs."""
        try:
            return self.get_experiment_by_name(name, project=project)
        except NotFound:
            pass
        try:
            return self.create_experiment(name, project=project)
        except Conflict:
            return self.get_experiment_by_name(name, project=project)

    def list_experiments(self, *, limit: int = 100, cursor: str | None = None) -> ResultPage[ExperimentRead]:
        """One page of experiments, newest first (iterate it; ``.next_cursor`` for the next page)."""
        data = self.transport.request("GET", "/experiments", params={"limit": limit, "cursor": cursor})
        page = Page[ExperimentRead].model_validate(data)
        return ResultPage(page.items, next_cursor=page.next_cursor, total=page.total)

    def iter_experiments(self, *, page_size: int = 100) -> Iterator[ExperimentRead]:
        cursor: str | None = None
        while True:
            page = self.list_experiments(limit=page_size, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    # -- runs -----------------------------------------------------------------------------------

    def create_run(
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
            "inputs": _as_dicts(inputs),
        }
        if start_time is not None:
            body["start_time"] = start_time.isoformat()
        return RunRead.model_validate(self.transport.request("POST", "/runs", json_body=body))

    def get_run(self, run_id: str) -> RunDetail:
        return RunDetail.model_validate(self.transport.request("GET", f"/runs/{_segment(run_id)}"))

    def update_run(
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
        data = self.transport.request("PATCH", f"/runs/{_segment(run_id)}", json_body=body)
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
        body = {"metrics": _as_dicts(metrics), "params": _as_dicts(params), "tags": _as_dicts(tags)}
        data = self.transport.request("POST", f"/runs/{_segment(run_id)}/batch", json_body=body)
        return BatchResult.model_validate(data)

    def search_runs(
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
        the search syntax of docs/tracking.md. ``iter_runs`` walks every page for you.
        """
        ids = list(experiment_ids) + self._experiment_ids(experiment)
        params: dict[str, Any] = {
            "experiment_id": ids or None,
            "filter": filter,
            "order_by": order_by,
            "limit": limit,
            "cursor": cursor,
        }
        data = self.transport.request("GET", "/runs", params=params)
        page = Page[RunRead].model_validate(data)
        return ResultPage(page.items, next_cursor=page.next_cursor, total=page.total)

    def iter_runs(
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
        ids = list(experiment_ids) + self._experiment_ids(experiment)
        cursor: str | None = None
        yielded = 0
        while True:
            page = self.search_runs(
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

    def _experiment_ids(self, experiment: str | Sequence[str] | None) -> list[str]:
        if experiment is None:
            return []
        names = [experiment] if isinstance(experiment, str) else list(experiment)
        return [self.get_experiment_by_name(name).id for name in names]

    def get_metric_history(self, run_id: str, key: str, *, max_points: int = 1000) -> MetricHistory:
        data = self.transport.request(
            "GET",
            f"/runs/{_segment(run_id)}/metrics/history",
            params={"key": key, "max_points": max_points},
        )
        return MetricHistory.model_validate(data)

    def compare_runs(self, run_ids: Sequence[str]) -> RunComparison:
        data = self.transport.request("GET", "/runs/compare", params={"ids": ",".join(run_ids)})
        return RunComparison.model_validate(data)

    def reproduce_run(self, run_id: str) -> Reproduction:
        data = self.transport.request("GET", f"/runs/{_segment(run_id)}/reproduce")
        return Reproduction.model_validate(data)

    # -- artifacts --------------------------------------------------------------------------------

    def list_artifacts(self, run_id: str, *, prefix: str | None = None) -> list[ArtifactRead]:
        data = self.transport.request("GET", f"/runs/{_segment(run_id)}/artifacts", params={"prefix": prefix})
        return [ArtifactRead.model_validate(item) for item in data]

    def upload_artifact(
        self,
        run_id: str,
        local_path: str | Path,
        artifact_path: str | None = None,
        *,
        progress: artifacts.Progress | None = None,
    ) -> ArtifactRead:
        """Stream one file to ``{artifact_path}/{file name}`` in the run's artifacts."""
        return artifacts.upload_file(self.transport, run_id, Path(local_path), artifact_path, progress)

    def upload_artifacts(
        self,
        run_id: str,
        local_dir: str | Path,
        artifact_path: str | None = None,
        *,
        progress: artifacts.Progress | None = None,
    ) -> list[ArtifactRead]:
        """Upload every file under ``local_dir``, keeping the folder layout below ``artifact_path``."""
        return artifacts.upload_dir(self.transport, run_id, Path(local_dir), artifact_path, progress)

    def download_artifact(
        self,
        run_id: str,
        path: str,
        dest: str | Path | None = None,
        *,
        progress: artifacts.Progress | None = None,
    ) -> Path:
        """Stream one artifact to ``dest`` (a file, or a folder to put it in) and verify its sha256."""
        return artifacts.download_file(self.transport, run_id, path, dest, progress)

    def download_artifacts(
        self,
        run_id: str,
        path: str,
        dest: str | Path | None = None,
        *,
        progress: artifacts.Progress | None = None,
    ) -> list[Path]:
        """Download an artifact, or every artifact under a folder, into ``dest`` (default: cwd)."""
        listed = self.list_artifacts(run_id, prefix=path)
        return artifacts.download_tree(self.transport, run_id, path, listed, dest, progress)


_default_lock = threading.Lock()
_default_client: Client | None = None


def default_client() -> Client:
    """The process-wide client for the tracking URI in force (``kiln.set_tracking_uri`` / ``KILN_URL``)."""
    global _default_client
    with _default_lock:
        if _default_client is None or _default_client.url != get_tracking_uri():
            _default_client = Client()
        return _default_client


def reset_default_client() -> None:
    global _default_client
    with _default_lock:
        _default_client = None
