"""``client.schedules``: cron schedules that enqueue jobs of a registered kind in your projects.

    client.schedules.create("nightly", "0 2 * * *", kind="pipelines.run", payload={...},
                            time_zone="Europe/Paris", catch_up="once", project_id=project.id)

A bad expression or zone is refused at once (``kiln.ValidationFailed``, naming it); an unknown kind
is ``kiln.Invalid`` naming the kinds the server has. ``next_fire_at`` (UTC) says when it fires next.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.resources.base import Resource, segment
from kiln.jobs.schedule_schemas import CatchUp, ScheduleRead, ScheduleUpdate


class SchedulesResource(Resource):
    def create(
        self,
        name: str,
        cron: str,
        *,
        kind: str,
        payload: dict[str, Any] | None = None,
        time_zone: str = "UTC",
        catch_up: CatchUp | str = CatchUp.skip,
        enabled: bool = True,
        project_id: str | None = None,
    ) -> ScheduleRead:
        """A schedule enqueuing a ``kind`` job with ``payload`` at each fire of ``cron`` in ``time_zone``;
        ``catch_up`` (skip, once, all) decides what fires missed while no scheduler ran become."""
        # Checked by the server (one set of rules, one error shape), not here.
        body = {
            "name": name,
            "cron": cron,
            "time_zone": time_zone,
            "kind": kind,
            "payload": payload or {},
            "catch_up": str(catch_up),
            "enabled": enabled,
            "project_id": project_id,
        }
        return ScheduleRead.model_validate(self.transport.request("POST", "/schedules", json_body=body))

    def list(
        self,
        *,
        kind: str | None = None,
        enabled: bool | None = None,
        project_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[ScheduleRead]:
        """One page of schedules, by name."""
        params = {
            "kind": kind,
            "enabled": None if enabled is None else str(enabled).lower(),
            "project_id": project_id,
            "limit": limit,
            "cursor": cursor,
        }
        return fetch_page(self.transport, "/schedules", ScheduleRead, params)

    def iter(self, *, kind: str | None = None, page_size: int = 100) -> Iterator[ScheduleRead]:
        return iterate(lambda cursor: self.list(kind=kind, limit=page_size, cursor=cursor))

    def get(self, schedule_id: str) -> ScheduleRead:
        answer = self.transport.request("GET", f"/schedules/{segment(schedule_id)}")
        return ScheduleRead.model_validate(answer)

    def update(self, schedule_id: str, **changes: Any) -> ScheduleRead:
        """Change the fields given (name, cron, time_zone, payload, catch_up, enabled)."""
        unknown = set(changes) - set(ScheduleUpdate.model_fields)
        if unknown:
            raise TypeError(f"schedules.update() got unknown fields: {', '.join(sorted(unknown))}")
        body = {key: str(value) if isinstance(value, CatchUp) else value for key, value in changes.items()}
        answer = self.transport.request("PATCH", f"/schedules/{segment(schedule_id)}", json_body=body)
        return ScheduleRead.model_validate(answer)

    def enable(self, schedule_id: str) -> ScheduleRead:
        """Fire again, from the next fire time after now (fires while disabled are not caught up)."""
        return self.update(schedule_id, enabled=True)

    def disable(self, schedule_id: str) -> ScheduleRead:
        return self.update(schedule_id, enabled=False)

    def delete(self, schedule_id: str) -> None:
        """Delete the schedule; the jobs it enqueued stay."""
        self.transport.request("DELETE", f"/schedules/{segment(schedule_id)}")
