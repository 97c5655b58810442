"""The registry's own errors (each registers itself by its code; the SDK raises the same classes)."""

from __future__ import annotations

from kiln.core.errors import Invalid


class UntrustedPayload(Invalid):
    """A model file that would run code, or hold types nobody vouched for, while it loads."""

    code = "untrusted_payload"
