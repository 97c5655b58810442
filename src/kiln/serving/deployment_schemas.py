"""Deployment I/O: what ``PUT /api/v1/deployments/{name}`` accepts and what the deployment routes answer.

Pydantic only (the SDK imports it). A deployment names its version one way: ``version`` (a number or
a label: pinned), ``stage`` (``production``, ``staging``: follows the stage) or ``alias``
(``champion``: follows the alias).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from kiln.core.schemas import InputSchema, ReadSchema

DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
FOLLOWED_STAGES = ("production", "staging", "development")


class DeploymentStatus(StrEnum):
    active = "active"
    stopped = "stopped"


def check_deployment_name(name: str) -> str | None:
    """What is wrong with ``name`` as a deployment name (it is a URL segment), or ``None``."""
    if not DEPLOYMENT_NAME.fullmatch(name):
        return (
            f"deployment name {name!r} is not usable: use 1-128 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return None


class DeploymentSpec(InputSchema):
    """Deploy ``model`` under the URL's name: exactly one of ``version``, ``stage`` or ``alias``."""

    model: Annotated[str, Field(min_length=1, max_length=256, description="registered model name")]
    version: Annotated[
        str | int | None, Field(description="a version number (3) or label (1.0.0): pinned")
    ] = None
    stage: Annotated[str | None, Field(description="follow the newest version in this stage")] = None
    alias: Annotated[
        str | None, Field(max_length=128, description="follow this alias (champion, or @champion)")
    ] = None
    public: Annotated[bool, Field(description="answer predictions without an API key")] = False
    project: Annotated[
        str | None, Field(max_length=256, description="the model's project (name or id), if ambiguous")
    ] = None

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str | None) -> str | None:
        if value is not None and value not in FOLLOWED_STAGES:
            raise ValueError(f"a deployment follows one of the stages {', '.join(FOLLOWED_STAGES)}")
        return value

    @model_validator(mode="after")
    def _one_reference(self) -> DeploymentSpec:
        given = [name for name in ("version", "stage", "alias") if getattr(self, name) not in (None, "")]
        if len(given) != 1:
            raise ValueError("say which version to deploy with exactly one of version, stage or alias")
        return self

    @property
    def version_ref(self) -> str:
        """The reference as ``kiln.registry.aliases.resolve_version`` reads it."""
        if self.alias:
            return "@" + self.alias.removeprefix("@")
        if self.stage:
            return self.stage
        return str(self.version).strip()


class ModelVersionRef(ReadSchema):
    """The model version a deployment answers with (and that answered a prediction)."""

    name: str
    version: int
    version_id: str


class Readiness(ReadSchema):
    """Whether this serving process answers for the deployment now, and why not."""

    ready: bool
    reason: str | None = None
    pending: bool = Field(
        default=False,
        description="the change is not loaded here yet: ask again in a moment (False: ready, or it failed)",
    )


class DeploymentRead(ReadSchema):
    id: str
    name: str
    project_id: str
    model: ModelVersionRef
    version_ref: str
    follows: str | None = Field(default=None, description="the stage or @alias it follows; None if pinned")
    public: bool
    status: DeploymentStatus
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    revision: int
    readiness: Readiness | None = None


class DeploymentFilter(InputSchema):
    # It shares the query string with paging (limit, cursor).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    status: DeploymentStatus | None = None
    model: Annotated[str | None, Field(max_length=256)] = None


class PredictResult(ReadSchema):
    """The answer of ``POST /api/v1/deployments/{name}/predict``: one prediction per row, in order."""

    request_id: str = Field(description="a UUIDv7; feedback names it (also the X-Request-ID header)")
    deployment: str
    model: ModelVersionRef = Field(description="the version that answered")
    predictions: list[Any]
    classes: list[Any] | None = Field(default=None, description="the order of each probabilities row")
    probabilities: list[list[float | None]] | None = None
    scores: list[float | None] | None = Field(default=None, description="outlier detectors")

    @property
    def model_version(self) -> int:
        return self.model.version


class DeploymentReady(ReadSchema):
    """Whether the serving process asked answers for the deployment now (``GET .../ready``)."""

    deployment: str
    ready: bool
    reason: str | None = Field(default=None, description="why not, when not ready")
    model_name: str | None = None
    model_version: int | None = None
