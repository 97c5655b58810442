"""``client.experiments``: create, find and list experiments."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.resources.base import Resource, segment
from kiln.core.errors import Conflict, NotFound
from kiln.tracking.schemas import ExperimentRead


class ExperimentsResource(Resource):
    def create(
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

    def get(self, experiment_id: str) -> ExperimentRead:
        data = self.transport.request("GET", f"/experiments/{segment(experiment_id)}")
        return ExperimentRead.model_validate(data)

    def get_by_name(self, name: str, *, project: str | None = None) -> ExperimentRead:
        """The experiment called ``name`` (in ``project``); raises ``kiln.NotFound`` when there is none."""
        params: dict[str, Any] = {"name": name, "limit": 1}
        if project is not None:
            params["project"] = project
        page = self.transport.request("GET", "/experiments", params=params)
        if not page["items"]:
            raise NotFound(f"experiment {name!r} not found")
        return ExperimentRead.model_validate(page["items"][0])

    def get_or_create(self, name: str, *, project: str | None = None) -> ExperimentRead:
        """Race-safe: if another process creates it first (409), fetch theirs."""
        try:
            return self.get_by_name(name, project=project)
        except NotFound:
            pass
        try:
            return self.create(name, project=project)
        except Conflict:
            return self.get_by_name(name, project=project)

    def list(self, *, limit: int = 100, cursor: str | None = None) -> ResultPage[ExperimentRead]:
        """One page of experiments, newest first (iterate it; ``.next_cursor`` for the next page)."""
        params = {"limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/experiments", ExperimentRead, params)

    def iter(self, *, page_size: int = 100) -> Iterator[ExperimentRead]:
        """Every experiment, following the cursor from page to page."""
        return iterate(lambda cursor: self.list(limit=page_size, cursor=cursor))

    def ids_of(self, experiment: str | Sequence[str] | None) -> builtins.list[str]:
        """The ids of experiments given by name (one name or several)."""
        if experiment is None:
            return []
        names = [experiment] if isinstance(experiment, str) else builtins.list(experiment)
        return [self.get_by_name(name).id for name in names]
