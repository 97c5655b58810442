"""``client.deployments``: deploy a model version under a name, read, stop, and predict through it.

A deployment names its version one way: ``version`` (a number or label: pinned), ``stage``
(``"production"``: follows the stage) or ``alias`` (``"champion"``: follows the alias). Refusals
arrive as their classes: ``kiln.NotFound`` (no such deployment or model), ``kiln.ValidationFailed``
(bad input, naming the field), ``kiln.serving.errors.NotReady`` (503: not loaded, with the reason)
and ``kiln.serving.errors.ModelFailed`` (500: the model raised; quote the request id).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from kiln.client.pages import ResultPage, fetch_page, iterate
from kiln.client.prediction_rows import predict_body
from kiln.client.resources.base import Resource, segment
from kiln.client.transport import GATEWAY_STATUSES
from kiln.serving.deployment_schemas import (
    DeploymentRead,
    DeploymentReady,
    DeploymentStatus,
    PredictResult,
)
from kiln.serving.errors import NotReady

# How often ``wait_ready`` asks (a deployment loads in well under a second once its process looks).
POLL_SECONDS = 0.25


class DeploymentsResource(Resource):
    def deploy(
        self,
        name: str,
        model: str,
        *,
        version: int | str | None = None,
        stage: str | None = None,
        alias: str | None = None,
        public: bool = False,
        project: str | None = None,
    ) -> DeploymentRead:
        """Create deployment ``name`` serving ``model`` at exactly one of ``version``, ``stage`` or
        ``alias``, or move it there (starting it again if stopped). Audited on the server.

        Serving processes load it within seconds: ``wait_ready(name)`` waits for that.
        """
        body: dict[str, Any] = {"model": model, "public": public}
        for key, value in (("version", version), ("stage", stage), ("alias", alias), ("project", project)):
            if value is not None:
                body[key] = value
        data = self.transport.request("PUT", f"/deployments/{segment(name)}", json_body=body)
        return DeploymentRead.model_validate(data)

    def get(self, name: str) -> DeploymentRead:
        """One deployment, with ``readiness`` as the answering server's serving side sees it."""
        return DeploymentRead.model_validate(self.transport.request("GET", f"/deployments/{segment(name)}"))

    def list(
        self,
        *,
        status: DeploymentStatus | str | None = None,
        model: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[DeploymentRead]:
        """One page of the deployments of your projects, by name; ``status`` is "active" or "stopped"."""
        params = {"status": None if status is None else str(status), "model": model}
        return fetch_page(
            self.transport, "/deployments", DeploymentRead, {**params, "limit": limit, "cursor": cursor}
        )

    def iter(
        self, *, status: DeploymentStatus | str | None = None, model: str | None = None, page_size: int = 100
    ) -> Iterator[DeploymentRead]:
        return iterate(lambda cursor: self.list(status=status, model=model, limit=page_size, cursor=cursor))

    def delete(self, name: str) -> DeploymentRead:
        """Stop deployment ``name`` (every serving process stops answering within seconds); the record
        stays, with ``status`` stopped, and ``deploy`` starts it again."""
        return DeploymentRead.model_validate(
            self.transport.request("DELETE", f"/deployments/{segment(name)}")
        )

    def ready(self, name: str) -> DeploymentReady:
        """Whether the server asked answers predictions for ``name`` now (loaded, verified, warmed up),
        and why not. ``kiln.NotFound`` when it has no such active deployment."""
        try:
            data = self.transport.request(
                "GET", f"/deployments/{segment(name)}/ready", retry_statuses=GATEWAY_STATUSES
            )
        except NotReady as exc:
            return DeploymentReady(deployment=name, ready=False, reason=exc.message)
        model = data.get("model") or {}
        return DeploymentReady(
            deployment=name, ready=True, model_name=model.get("name"), model_version=model.get("version")
        )

    def wait_ready(self, name: str, *, timeout: float = 60.0) -> DeploymentRead:
        """Wait until the server's serving side has loaded deployment ``name``'s current version.

        Raises ``NotReady`` with the reason when loading failed (a file whose checksum no longer
        matches, a payload that cannot load, a failed warm-up) or ``timeout`` seconds passed.
        """
        deadline = time.monotonic() + timeout
        while True:
            deployment = self.get(name)
            readiness = deployment.readiness
            if readiness is None or readiness.ready:
                return deployment
            if not readiness.pending:
                raise NotReady(f"deployment {name!r} is not ready: {readiness.reason}")
            if time.monotonic() >= deadline:
                raise NotReady(f"deployment {name!r} was not ready after {timeout:g} s: {readiness.reason}")
            time.sleep(POLL_SECONDS)

    def predict(self, name: str, rows: Any) -> PredictResult:
        """Predictions for ``rows`` (a list of records, a dict of columns, or a pandas DataFrame),
        one per row in order, with the version that answered and the request id feedback names.

        Rows are validated against the version's signature: ``kiln.ValidationFailed`` names the
        field. The call is logged on the server (the prediction log), refused ones included.
        """
        data = self.transport.request(
            "POST",
            f"/deployments/{segment(name)}/predict",
            json_body=predict_body(rows),
            retry_statuses=GATEWAY_STATUSES,
        )
        return PredictResult.model_validate(data)

    def predict_url(self, name: str) -> str:
        """The URL that answers predictions for ``name`` on this server (what ``curl`` would POST to)."""
        return f"{self.transport.base_url}/api/v1/deployments/{segment(name)}/predict"
