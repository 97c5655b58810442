"""I/O schemas of the registry's lifecycle: stages, gates, approvals, rollback, aliases, history.

Pydantic only (the SDK imports them). Apart from ``schemas.py`` so that the registration schemas
and these grow without stepping on each other.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.registry.schemas import ApprovalStatus, RiskLevel, Stage

# A metric key as tracking accepts it (letters, digits and _ - . / space).
METRIC_KEY = r"^[A-Za-z0-9_\-./ ]{1,250}$"
# ``champion``, ``challenger``, ``shadow-2``: lower case, starting with a letter.
ALIAS_NAME = r"^[a-z][a-z0-9_-]{0,63}$"
# Aliases that would read as another kind of version reference are refused.
RESERVED_ALIASES = frozenset({*(stage.value for stage in Stage), "latest"})

Reason = Annotated[str, Field(max_length=2000)]
RequiredReason = Annotated[str, Field(min_length=1, max_length=2000)]


# -- gates -------------------------------------------------------------------------------------

Comparison = Literal[">=", ">", "<=", "<", "=="]


class MetricGate(InputSchema):
    """``accuracy >= 0.85``: the version's own metric against a fixed value."""

    metric: Annotated[str, Field(pattern=METRIC_KEY)]
    op: Comparison
    value: float = Field(allow_inf_nan=False)


class NoWorseThanProduction(InputSchema):
    """The version's ``metric`` may trail the current production version's by at most ``tolerance``."""

    metric: Annotated[str, Field(pattern=METRIC_KEY)]
    tolerance: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    # False for losses and errors: lower is better, so "worse" means higher.
    higher_is_better: bool = True


class GatesConfig(InputSchema):
    """A model's staging gates beyond the two every version runs (artifact, smoke)."""

    metrics: list[MetricGate] = Field(default_factory=list, max_length=100)
    no_worse_than_production: NoWorseThanProduction | None = None


class GateResult(ReadSchema):
    gate: str
    passed: bool
    detail: str


# -- stages ------------------------------------------------------------------------------------


class StageChangeRequest(InputSchema):
    stage: Stage
    reason: Reason = ""


class VersionStage(ReadSchema):
    """A version as the lifecycle sees it: where it is and what its last gate run found."""

    id: str
    model_id: str
    number: int
    label: str | None = None
    stage: Stage
    gate_results: list[GateResult] = Field(default_factory=list)


class StageChangeRead(ReadSchema):
    id: int
    model_id: str
    version_id: str
    version_number: int
    from_stage: Stage | None = None
    to_stage: Stage
    reason: str
    changed_at: datetime
    changed_by: str
    changed_by_user_id: str | None = None
    approval_id: str | None = None


class ProductionAt(ReadSchema):
    """Which version was in production at ``at`` (``version`` is None when none was)."""

    model: str
    at: datetime
    version: VersionStage | None = None


class RollbackRequest(InputSchema):
    reason: RequiredReason


class RollbackResult(ReadSchema):
    restored: VersionStage
    failed: VersionStage


# -- approvals ---------------------------------------------------------------------------------


class ApprovalRequestCreate(InputSchema):
    risk_assessment: Annotated[str, Field(min_length=1, max_length=20_000)]
    risk_level: RiskLevel


class ApprovalDecision(InputSchema):
    reason: RequiredReason


class ApprovalRead(ReadSchema):
    id: str
    project_id: str
    model_id: str
    model_name: str
    version_id: str
    version_number: int
    status: ApprovalStatus
    risk_level: RiskLevel
    risk_assessment: str
    requested_at: datetime
    requested_by: str
    requested_by_user_id: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decided_by_user_id: str | None = None
    decision_reason: str | None = None


class RegistrySettingsUpdate(InputSchema):
    allow_single_approver: bool


class RegistrySettingsRead(ReadSchema):
    project_id: str
    allow_single_approver: bool
    updated_at: datetime | None = None
    updated_by: str = ""


# -- aliases -----------------------------------------------------------------------------------


class AliasSet(InputSchema):
    """The version the alias points at: its number, or its label."""

    version: Annotated[str, Field(min_length=1, max_length=128)] | int

    @field_validator("version", mode="after")
    @classmethod
    def _no_alias_of_alias(cls, value: str | int) -> str | int:
        if isinstance(value, str) and value.startswith("@"):
            raise ValueError("an alias points at a version number or label, not at another alias")
        return value


class AliasRead(ReadSchema):
    model_id: str
    alias: str
    version_id: str
    version_number: int
    updated_at: datetime
    updated_by: str


def check_alias_name(alias: str) -> str | None:
    """Why ``alias`` cannot name an alias, or None when it can."""
    if not re.fullmatch(ALIAS_NAME, alias):
        return (
            f"alias {alias!r} is not a valid name: use 1-64 lower-case letters, digits, '-' or '_', "
            "starting with a letter (e.g. champion)"
        )
    if alias in RESERVED_ALIASES:
        return f"alias {alias!r} is reserved (it names a stage or the latest version); choose another name"
    return None


def as_utc(at: datetime) -> datetime:
    """A time from the wire, in UTC (a time without a zone is taken as UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
