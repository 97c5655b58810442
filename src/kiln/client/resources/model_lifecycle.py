"""``client.model_lifecycle``: stages, approvals, rollback, history, aliases and gates of registered models.

A ``version`` is any reference the server reads: a number (``3``), a label (``"1.0.0"``), an alias
(``"@champion"``) or a stage (``"production"``). ``project`` (id or name) is needed only when the
model name exists in several of your projects. Refusals raise the lifecycle's own errors
(``kiln.registry.lifecycle_errors``: ``GatesFailed``, ``StageTransitionDenied``, ``SelfApprovalRefused``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.registry import lifecycle_errors  # noqa: F401  (registers the codes the server answers with)
from kiln.registry.lifecycle_schemas import (
    AliasRead,
    ApprovalRead,
    GatesConfig,
    ProductionAt,
    RollbackResult,
    StageChangeRead,
    VersionStage,
)


def _model(name: str) -> str:
    return f"/models/{segment(name)}"


def _version(name: str, version: int | str) -> str:
    return f"{_model(name)}/versions/{segment(str(version))}"


class ModelLifecycleResource(Resource):
    def _params(self, project: str | None, **more: Any) -> dict[str, Any]:
        return {key: value for key, value in {"project": project, **more}.items() if value is not None}

    def set_stage(
        self, name: str, version: int | str, stage: str, *, reason: str = "", project: str | None = None
    ) -> VersionStage:
        """Move a version to ``staging`` (runs the gates; ``GatesFailed`` says which failed), back to
        ``development``, or to ``archived``. Production is reached with ``request_production``."""
        data = self.transport.request(
            "POST",
            f"{_version(name, version)}/stage",
            json_body={"stage": stage, "reason": reason},
            params=self._params(project),
        )
        return VersionStage.model_validate(data)

    def request_production(
        self,
        name: str,
        version: int | str,
        *,
        risk_assessment: str,
        risk_level: str,
        project: str | None = None,
    ) -> ApprovalRead:
        """Ask for production; someone else (four-eyes) approves it."""
        data = self.transport.request(
            "POST",
            f"{_version(name, version)}/approval-requests",
            json_body={"risk_assessment": risk_assessment, "risk_level": risk_level},
            params=self._params(project),
        )
        return ApprovalRead.model_validate(data)

    def approvals(
        self, *, status: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[ApprovalRead]:
        """Approval requests in your projects, newest first (``status="pending"``: the inbox)."""
        params = {"status": status, "limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/approvals", ApprovalRead, params)

    def approve(self, approval_id: str, *, reason: str) -> ApprovalRead:
        """Approve: the version goes to production, the one there is archived."""
        path = f"/approvals/{segment(approval_id)}/approve"
        return ApprovalRead.model_validate(self.transport.request("POST", path, json_body={"reason": reason}))

    def reject(self, approval_id: str, *, reason: str) -> ApprovalRead:
        path = f"/approvals/{segment(approval_id)}/reject"
        return ApprovalRead.model_validate(self.transport.request("POST", path, json_body={"reason": reason}))

    def rollback(self, name: str, *, reason: str, project: str | None = None) -> RollbackResult:
        """Production returns to the previous production version; the current one is marked failed."""
        data = self.transport.request(
            "POST", f"{_model(name)}/rollback", json_body={"reason": reason}, params=self._params(project)
        )
        return RollbackResult.model_validate(data)

    def history(
        self, name: str, *, version: int | str | None = None, project: str | None = None
    ) -> list[StageChangeRead]:
        """Every stage change of the model (or one version), oldest first."""
        ref = None if version is None else str(version)
        data = self.transport.request(
            "GET", f"{_model(name)}/history", params=self._params(project, version=ref)
        )
        return [StageChangeRead.model_validate(item) for item in data]

    def production_at(
        self, name: str, at: datetime | None = None, *, project: str | None = None
    ) -> ProductionAt:
        """Which version was in production at ``at`` (default now); ``kiln.NotFound`` when none was."""
        when = None if at is None else at.isoformat()
        data = self.transport.request(
            "GET", f"{_model(name)}/production", params=self._params(project, at=when)
        )
        return ProductionAt.model_validate(data)

    def aliases(self, name: str, *, project: str | None = None) -> list[AliasRead]:
        data = self.transport.request("GET", f"{_model(name)}/aliases", params=self._params(project))
        return [AliasRead.model_validate(item) for item in data]

    def set_alias(
        self, name: str, alias: str, version: int | str, *, project: str | None = None
    ) -> AliasRead:
        """Create or move ``alias`` (one atomic write) to the version numbered or labelled ``version``."""
        data = self.transport.request(
            "PUT",
            f"{_model(name)}/aliases/{segment(alias)}",
            json_body={"version": version},
            params=self._params(project),
        )
        return AliasRead.model_validate(data)

    def delete_alias(self, name: str, alias: str, *, project: str | None = None) -> None:
        self.transport.request(
            "DELETE", f"{_model(name)}/aliases/{segment(alias)}", params=self._params(project)
        )

    def gates(self, name: str, *, project: str | None = None) -> GatesConfig:
        data = self.transport.request("GET", f"{_model(name)}/gates", params=self._params(project))
        return GatesConfig.model_validate(data)

    def set_gates(
        self, name: str, gates: GatesConfig | dict[str, Any], *, project: str | None = None
    ) -> GatesConfig:
        """Replace the model's metric gates (artifact and smoke gates always run)."""
        body = gates.model_dump(mode="json", exclude_none=True) if isinstance(gates, GatesConfig) else gates
        data = self.transport.request(
            "PUT", f"{_model(name)}/gates", json_body=body, params=self._params(project)
        )
        return GatesConfig.model_validate(data)
