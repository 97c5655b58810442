"""The queue's errors (registered by code, so the SDK raises the same classes)."""

from __future__ import annotations

from kiln.core.errors import Invalid


class UnknownJobKind(Invalid):
    """A job was enqueued for a kind no domain registered (a typo, or a missing registration)."""

    code = "unknown_job_kind"
