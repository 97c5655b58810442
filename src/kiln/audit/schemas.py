"""Audit I/O schemas (read only: the API has no way to change a record)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from kiln.core.schemas import InputSchema, ReadSchema


class AuditFilter(InputSchema):
    """Which records to list or export; each given field narrows the match (all must hold).

    The API reads it from the query string (``Annotated[AuditFilter, Query()]``), the UI's audit
    page from its filter form, and the page's export links are written from it.
    """

    # It shares the query string with paging (limit, cursor) and the export's format.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    actor_id: Annotated[str | None, Field(max_length=64, description="exactly this actor (user, key)")] = None
    user_id: Annotated[
        str | None, Field(max_length=64, description="this user's actions, also those made with their keys")
    ] = None
    action: Annotated[str | None, Field(max_length=64, description="e.g. user.login")] = None
    target_type: Annotated[str | None, Field(max_length=64)] = None
    target_id: Annotated[str | None, Field(max_length=256)] = None
    since: Annotated[datetime | None, Field(description="from this time on (UTC unless it says)")] = None
    until: Annotated[datetime | None, Field(description="before this time (UTC unless it says)")] = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # An empty form field (or ``?action=``) filters nothing.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("since", "until", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            return value or None
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a date and time like 2024-05-01T13:30") from None

    @field_validator("since", "until", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    def query_params(self) -> dict[str, str]:
        """The filter as query parameters (for links to the API's list and export)."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else str(value)
            for key, value in self.model_dump(exclude_none=True).items()
        }


class AuditRecordRead(ReadSchema):
    seq: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str
    # The acting user, also when they acted with one of their API keys (None: system, anonymous).
    user_id: str | None = None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    request_id: str
    hash: str


class ChainVerification(ReadSchema):
    """What ``audit.chain.verify_chain`` found (built there, shown as is by the API, UI and CLI)."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    # The last record that verified; record ``head_seq:head_hash`` elsewhere and pass it back as
    # ``expect_head`` to prove the trail was not rewritten since.
    head_seq: int = 0
    head_hash: str = "0" * 64
