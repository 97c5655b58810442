"""``client.jobs``: the job queue of your projects: list, read (with attempts), cancel, retry.

Cancelling a queued job ends it; a running one stops at its worker's next heartbeat (its state
reads ``running`` with ``cancel_requested_at`` set until then). Retrying queues a failed or
cancelled job again with a fresh budget of attempts. Both are audited on the server; refusals
arrive as ``kiln.NotFound`` (not yours to see), ``kiln.PermissionDenied`` (someone else's job
without ``jobs:admin``) and ``kiln.InvalidState`` (it has already ended, or is not retryable).
"""

from __future__ import annotations

from collections.abc import Iterator

from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.resources.base import Resource, segment
from kiln.jobs.schemas import JobDetail, JobRead, JobState


class JobsResource(Resource):
    def list(
        self,
        *,
        state: JobState | str | None = None,
        kind: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[JobRead]:
        """One page of jobs, newest first; ``state`` is queued, running, succeeded, failed or cancelled."""
        params = {
            "state": None if state is None else str(state),
            "kind": kind,
            "limit": limit,
            "cursor": cursor,
        }
        return fetch_page(self.transport, "/jobs", JobRead, params)

    def iter(
        self, *, state: JobState | str | None = None, kind: str | None = None, page_size: int = 100
    ) -> Iterator[JobRead]:
        return iterate(lambda cursor: self.list(state=state, kind=kind, limit=page_size, cursor=cursor))

    def get(self, job_id: str) -> JobDetail:
        """One job with its payload, every attempt (worker, outcome, error) and the last traceback."""
        return JobDetail.model_validate(self.transport.request("GET", f"/jobs/{segment(job_id)}"))

    def cancel(self, job_id: str) -> JobDetail:
        return JobDetail.model_validate(self.transport.request("POST", f"/jobs/{segment(job_id)}/cancel"))

    def retry(self, job_id: str) -> JobDetail:
        return JobDetail.model_validate(self.transport.request("POST", f"/jobs/{segment(job_id)}/retry"))
