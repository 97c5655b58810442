"""Alert rules, incidents, channels and deliveries: the I/O of ``/api/v1/alerts``. Pydantic only.

A rule reads "``metric`` ``comparison`` ``threshold`` for ``duration``" on one deployment (optionally
one model version): ``accuracy < 0.85 for 1h``. Durations are written ``90s``, ``10m``, ``1h``,
``2d`` (or seconds as a number). Secrets (a webhook's signing secret, a Slack URL, which is one)
are write-only: reads say ``has_secret`` and never echo them.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, ConfigDict, Field, field_validator

from kiln.auth.schemas import EmailStr
from kiln.core.schemas import InputSchema, ReadSchema
from kiln.monitoring.schemas import MonitoredMetric

NAME_LENGTH = 128
NOTE_LENGTH = 2000
URL_LENGTH = 2000
SECRET_MIN = 16
SECRET_MAX = 256
MAX_DURATION_SECONDS = 7 * 86_400
MAX_CHANNELS = 20
MAX_RECIPIENTS = 50
_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


class Comparison(StrEnum):
    lt = "<"
    le = "<="
    gt = ">"
    ge = ">="

    def holds(self, value: float, threshold: float) -> bool:
        if self is Comparison.lt:
            return value < threshold
        if self is Comparison.le:
            return value <= threshold
        if self is Comparison.gt:
            return value > threshold
        return value >= threshold


class DriftMetric(StrEnum):
    """Drift as a rule's metric: the share of the deployment's features that drifted (0 to 1)."""

    drift_share = "drift_share"


# What a rule watches: every metric a window holds, or drift.
AlertMetric = MonitoredMetric | DriftMetric


def alert_metric(value: str) -> AlertMetric:
    return DriftMetric(value) if value == DriftMetric.drift_share.value else MonitoredMetric(value)


class RuleWindow(StrEnum):
    minute = "1m"
    hour = "1h"
    day = "1d"


WINDOW_SECONDS = {RuleWindow.minute: 60, RuleWindow.hour: 3_600, RuleWindow.day: 86_400}


class RuleState(StrEnum):
    ok = "ok"
    pending = "pending"  # breaching, not yet for the whole duration
    firing = "firing"


class IncidentState(StrEnum):
    firing = "firing"
    resolved = "resolved"


class ChannelKind(StrEnum):
    email = "email"
    slack = "slack"
    webhook = "webhook"
    in_app = "in_app"


class DeliveryEvent(StrEnum):
    firing = "firing"
    resolved = "resolved"
    test = "test"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


def parse_duration(value: Any) -> int:
    """Seconds of ``90s`` / ``10m`` / ``1h`` / ``2d`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 10m, 1h, 2d")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds != int(seconds):
            raise ValueError("a duration in seconds is a whole number")
        total = int(seconds)
    elif isinstance(value, str):
        found = _DURATION.match(value)
        if found is None:
            raise ValueError(f"duration {value[:40]!r} is not valid; write it as 90s, 10m, 1h or 2d")
        total = int(found.group(1)) * _UNITS[found.group(2)]
    else:
        raise ValueError("a duration is a number of seconds or text such as 10m, 1h, 2d")
    if not 0 <= total <= MAX_DURATION_SECONDS:
        raise ValueError(f"a duration is between 0 and {MAX_DURATION_SECONDS // 86_400} days")
    return total


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$")]
Threshold = Annotated[float, Field(allow_inf_nan=False)]
ChannelRefs = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]], Field(max_length=MAX_CHANNELS)
]


class _Duration(InputSchema):
    @field_validator("duration", mode="before", check_fields=False)
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


class AlertRuleCreate(_Duration):
    """``accuracy < 0.85 for 1h`` on deployment ``fraud``, told to the channels named."""

    name: Name | None = Field(None, description="unique in the project; default: '<deployment> <metric>'")
    deployment: Annotated[str, Field(min_length=1, max_length=128)]
    version: Annotated[int | None, Field(ge=1)] = Field(
        None, description="one model version's metric; default: the deployment as a whole"
    )
    metric: AlertMetric
    comparison: Comparison
    threshold: Threshold
    duration: int = Field(0, description="how long the breach must hold: 0, 90s, 10m, 1h, 2d")
    window: RuleWindow | None = Field(
        None,
        description="the metric windows judged (drift: the range each check reads); default: the "
        "widest of 1d, 1h, 1m that divides the duration (1h for drift)",
    )
    channels: ChannelRefs = Field(default_factory=list, description="channel names or ids in the project")
    enabled: bool = True


class AlertRuleUpdate(_Duration):
    name: Name | None = None
    comparison: Comparison | None = None
    threshold: Threshold | None = None
    duration: int | None = None
    window: RuleWindow | None = None
    channels: ChannelRefs | None = None
    enabled: bool | None = None


class AlertRuleRead(ReadSchema):
    id: str
    project_id: str
    name: str
    deployment: str
    version: int | None = Field(validation_alias=AliasChoices("model_version_number", "version"))
    metric: str
    comparison: Comparison
    threshold: float
    duration_seconds: int
    window_seconds: int
    channels: list[str] = Field(
        validation_alias=AliasChoices("channel_ids", "channels"), description="channel ids"
    )
    builtin: str | None = Field(description="error_rate, latency_p99 or drift for a built-in rule")
    enabled: bool
    state: RuleState
    breaching_since: datetime | None
    last_value: float | None
    last_evaluated_at: datetime | None
    last_error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class RuleFilter(InputSchema):
    # It shares the query string with paging (limit, cursor).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    deployment: Annotated[str | None, Field(max_length=128)] = None
    state: RuleState | None = None


class IncidentRead(ReadSchema):
    id: str
    project_id: str
    rule_id: str
    rule_name: str
    deployment: str
    metric: str
    comparison: Comparison
    threshold: float
    duration_seconds: int
    state: IncidentState
    value: float | None = Field(description="the metric when it fired")
    breaching_since: datetime
    fired_at: datetime
    resolved_at: datetime | None
    resolved_value: float | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None


class IncidentAck(InputSchema):
    note: Annotated[str, Field(max_length=NOTE_LENGTH)] = ""


class AlertChannelCreate(InputSchema):
    """email: ``to`` (empty: the project's members, as each chose in their notification settings);
    slack: ``url`` (an incoming webhook; kept secret); webhook: ``url`` and ``secret`` (HMAC-SHA256
    of the body, in ``X-Kiln-Signature: sha256=<hex>``); in_app: the project's members."""

    name: Name
    project: Annotated[str | None, Field(max_length=NAME_LENGTH)] = Field(
        None, description="project id or name; default: the key's project, else 'default'"
    )
    kind: ChannelKind
    url: Annotated[str | None, Field(max_length=URL_LENGTH)] = None
    secret: Annotated[str | None, Field(min_length=SECRET_MIN, max_length=SECRET_MAX)] = None
    to: Annotated[list[EmailStr], Field(max_length=MAX_RECIPIENTS)] = Field(default_factory=list)
    enabled: bool = True


class AlertChannelUpdate(InputSchema):
    name: Name | None = None
    url: Annotated[str | None, Field(max_length=URL_LENGTH)] = None
    secret: Annotated[str | None, Field(min_length=SECRET_MIN, max_length=SECRET_MAX)] = None
    to: Annotated[list[EmailStr] | None, Field(max_length=MAX_RECIPIENTS)] = None
    enabled: bool | None = None


class AlertChannelRead(ReadSchema):
    id: str
    project_id: str
    name: str
    kind: ChannelKind
    url: str | None = Field(description="a webhook's URL; a Slack URL shows its host only")
    to: list[str]
    has_secret: bool
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class DeliveryAttemptRead(ReadSchema):
    number: int
    at: datetime
    status: str = Field(description="ok or failed")
    response_code: int | None
    error: str | None


class DeliveryRead(ReadSchema):
    id: str
    channel_id: str
    incident_id: str | None
    event: DeliveryEvent
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_history: list[DeliveryAttemptRead] = Field(default_factory=list)


class IncidentDetail(IncidentRead):
    deliveries: list[DeliveryRead] = Field(default_factory=list)
