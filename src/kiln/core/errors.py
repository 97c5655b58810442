"""One tree of errors with stable codes; the API, UI and SDK all speak it.

Services raise these, never HTTP exceptions. ``app.py`` maps them to
``{"error": {"code", "message", "details"}}`` and the SDK maps the code back to the class.
Importable without FastAPI or SQLAlchemy so the SDK can use it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class KilnError(Exception):
    code: ClassVar[str] = "error"
    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class Invalid(KilnError):
    """The request is well-formed but asks for something that is not valid."""

    code = "invalid"
    status_code = 400


class ValidationFailed(Invalid):
    """A field has the wrong type or shape (HTTP 422)."""

    code = "validation_failed"
    status_code = 422


class Unauthenticated(KilnError):
    code = "unauthenticated"
    status_code = 401


class PermissionDenied(KilnError):
    code = "permission_denied"
    status_code = 403


class NotFound(KilnError):
    code = "not_found"
    status_code = 404


class Conflict(KilnError):
    code = "conflict"
    status_code = 409


class InvalidState(Conflict):
    """The target exists but its state forbids the operation (e.g. logging to a finished run)."""

    code = "invalid_state"


class PayloadTooLarge(KilnError):
    code = "payload_too_large"
    status_code = 413


class RateLimited(KilnError):
    code = "rate_limited"
    status_code = 429


class ChecksumMismatch(KilnError):
    """Stored bytes no longer match the checksum recorded when they were written."""

    code = "checksum_mismatch"
    status_code = 500


ERRORS_BY_CODE: dict[str, type[KilnError]] = {
    cls.code: cls
    for cls in (
        KilnError,
        Invalid,
        ValidationFailed,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        Conflict,
        InvalidState,
        PayloadTooLarge,
        RateLimited,
        ChecksumMismatch,
    )
}


def error_from_payload(payload: Any, status_code: int) -> KilnError:
    """Rebuild the right error class from an API error body (used by the SDK)."""
    body = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        return KilnError(f"HTTP {status_code}: {payload!r}"[:500])
    cls = ERRORS_BY_CODE.get(str(body.get("code")), KilnError)
    return cls(str(body.get("message", "")), details=body.get("details") or {})
