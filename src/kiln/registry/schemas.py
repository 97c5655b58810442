"""Registry I/O schemas, shared by the API and the SDK (pydantic only)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.registry.model_format import Signature


class Stage(StrEnum):
    """Where a version is in its life. ``failed``: rolled back out of production."""

    development = "development"
    staging = "staging"
    production = "production"
    archived = "archived"
    failed = "failed"


class VersionStatus(StrEnum):
    """An uploaded version is a ``draft`` until its owner finishes it; every other version is ``ready``."""

    draft = "draft"
    ready = "ready"


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


# -- I/O schemas (the API and the SDK) ---------------------------------------------------------

# A model name travels in URIs (``models:/fraud_detector/3``) and paths: no slashes, no spaces.
# Tags the SDK puts on a version registered inside a pipeline step (from the step's environment):
# the pipeline run and step it came from, which the step's output links to in lineage.
PIPELINE_RUN_TAG = "kiln.pipeline_run"
PIPELINE_STEP_TAG = "kiln.pipeline_step"

MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# A version label such as ``1.0.0`` or ``2024-06-rc1``.
VERSION_LABEL = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"

ModelName = Annotated[
    str, Field(pattern=MODEL_NAME, description="unique in its project; letters, digits, . _ -")
]
Key = Annotated[str, Field(min_length=1, max_length=250, pattern=r"^[^\x00-\x1f]+$")]
Tags = Annotated[dict[Key, Annotated[str, Field(max_length=8000)]], Field(max_length=500)]
Description = Annotated[str, Field(max_length=10_000)]
ProjectRef = Annotated[str, Field(min_length=1, max_length=128)]


def check_label(label: str | None) -> str | None:
    """A label must not read as something else a version reference can be (a number, a stage, an alias)."""
    if label is None:
        return None
    if not re.match(VERSION_LABEL, label):
        raise ValueError(f"label {label!r} may hold letters, digits and . _ + - (e.g. 1.0.0), up to 64")
    if label.isdigit():
        raise ValueError(
            f"label {label!r} is all digits, so it would read as a version number; try {label}.0"
        )
    if label.lower() in {stage.value for stage in Stage}:
        raise ValueError(f"label {label!r} is a stage name; choose another label")
    return label


Label = Annotated[str | None, AfterValidator(check_label)]


class ModelCreate(InputSchema):
    name: ModelName
    # A project id or name; default: the API key's project, else "default".
    project: ProjectRef | None = None
    description: Description = ""
    tags: Tags = Field(default_factory=dict)


class ModelUpdate(InputSchema):
    description: Description | None = None
    tags: Tags | None = None


class ModelRead(ReadSchema):
    id: str
    project_id: str
    name: str
    description: str
    tags: dict[str, str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    # The last number handed out, and how many versions exist (drafts included).
    latest_version: int = 0
    version_count: int = 0
    # Numbers of the versions now in each stage, e.g. {"production": [3], "staging": [4]}.
    stages: dict[str, list[int]] = Field(default_factory=dict)


class VersionFromRun(InputSchema):
    """Register the model folder a run saved (``runs:/<run_id>/model``)."""

    source: Annotated[str, Field(pattern=r"^runs:/[^/\s]+(/[^\s]*)?$", max_length=2048)] = Field(
        description="runs:/<run_id>/<folder>, e.g. runs:/0190.../model"
    )
    label: Label = None
    description: Description = ""
    tags: Tags = Field(default_factory=dict)


class VersionUpdate(InputSchema):
    description: Description | None = None
    tags: Tags | None = None
    # Editable only while the version is in development.
    signature: Signature | None = None


class VersionFileRead(ReadSchema):
    path: str
    size: int
    sha256: str


class ModelVersionRead(ReadSchema):
    id: str
    model_id: str
    model_name: str
    project_id: str
    number: int
    label: str | None
    description: str
    tags: dict[str, str]
    stage: Stage
    status: VersionStatus
    flavor: str
    serialization: str
    estimator_class: str | None = None
    source: str
    source_run_id: str | None
    signature: Signature
    example_input: dict[str, Any] | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    environment: dict[str, Any] = Field(default_factory=dict)
    training_inputs: list[dict[str, Any]] = Field(default_factory=list)
    files: list[VersionFileRead] = Field(default_factory=list)
    size_bytes: int
    gate_results: list[dict[str, Any]] = Field(default_factory=list)
    # The model's aliases that point at this version (``["champion"]``), by name.
    aliases: list[str] = Field(default_factory=list)
    # The approval request waiting for a decision on this version, if any (``/approvals/{id}``).
    pending_approval_id: str | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def uri(self) -> str:
        return f"models:/{self.model_name}/{self.number}"


# -- comparing versions (registry/compare.py) --------------------------------------------------


class ComparedVersion(ReadSchema):
    """One column of a comparison: which version it is and the facts that fit in a header."""

    ref: str  # what the caller asked for, e.g. "fraud_detector:1.0.0"
    model: str
    project_id: str
    number: int
    label: str | None
    description: str
    stage: Stage
    flavor: str
    estimator_class: str | None = None
    size_bytes: int
    file_count: int
    created_at: datetime
    created_by: str
    source_run_id: str | None


class ComparisonRow(ReadSchema):
    """One compared field: its value per version (in the versions' order; ``None`` where absent)."""

    key: str
    values: list[str | None]
    differs: bool


class MetricRow(ReadSchema):
    key: str
    values: list[float | None]
    differs: bool
    higher_is_better: bool
    # Indexes (into ``versions``) of the versions holding the best value; ties all count.
    best: list[int] = Field(default_factory=list)
    # Each version's value minus the baseline's (the first version); ``None`` where either is missing.
    delta: list[float | None] = Field(default_factory=list)


class SignatureChange(ReadSchema):
    """How a version's signature differs from the baseline's (``version`` indexes ``versions``)."""

    version: int
    field: str  # an input's name, or "outputs.kind", "outputs.classes", "input_kind"
    change: str  # added | removed | type | bounds | required | allowed | output
    baseline: str | None
    value: str | None


class SignificanceResult(ReadSchema):
    """One test of whether a version's metric differs from the baseline's beyond chance."""

    metric: str
    version: int
    test: str
    statistic: float
    p_value: float
    holdout: str


class SignificanceSection(ReadSchema):
    """Left empty on purpose: a significance test needs both versions' predictions on one shared
    holdout set, which the registry does not hold. Monitoring and pipelines, which score versions on
    a holdout, will fill ``results``; until then ``available`` is false and nothing is guessed."""

    available: bool = False
    reason: str = "needs predictions of every compared version on a shared holdout set"
    results: list[SignificanceResult] = Field(default_factory=list)


class VersionComparison(ReadSchema):
    """Two to twenty versions side by side; every row's ``values`` follow ``versions``' order."""

    versions: list[ComparedVersion]
    params: list[ComparisonRow]
    metrics: list[MetricRow]
    signature: list[ComparisonRow]
    signature_changes: list[SignatureChange]
    training_data: list[ComparisonRow]
    files: list[ComparisonRow]
    significance: SignificanceSection = Field(default_factory=SignificanceSection)
    generated_at: datetime
    generated_by: str
