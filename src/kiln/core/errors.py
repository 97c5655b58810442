"""One tree of errors with stable codes; the API, UI and SDK all speak it.

Services raise these, never HTTP exceptions. ``app.py`` maps them to
``{"error": {"code", "message", "details"}}`` and the SDK maps the code back to the class.
Importable without FastAPI or SQLAlchemy so the SDK can use it.

Every subclass registers itself by its ``code`` when it is defined, so a domain error such as
``class StageTransitionDenied(InvalidState): code = "stage_transition_denied"`` reaches the SDK as
its own class with no list to update. A subclass must declare a code of its own: reusing one raises
``TypeError`` at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar

_BY_CODE: dict[str, type[KilnError]] = {}


class KilnError(Exception):
    code: ClassVar[str] = "error"
    status_code: ClassVar[int] = 500
    # The heading of the UI's error page.
    title: ClassVar[str] = "Something went wrong"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _register(cls)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def _register(cls: type[KilnError]) -> None:
    if "code" not in vars(cls):
        raise TypeError(f"{cls.__qualname__} must declare its own `code` (it would reuse {cls.code!r})")
    taken = _BY_CODE.get(cls.code)
    # The same class defined again (a module reloaded) replaces itself; another class may not.
    if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(
            f"error code {cls.code!r} of {cls.__module__}.{cls.__qualname__} is already used by "
            f"{taken.__module__}.{taken.__qualname__}; choose another code"
        )
    _BY_CODE[cls.code] = cls


_BY_CODE[KilnError.code] = KilnError


class Invalid(KilnError):
    """The request is well-formed but asks for something that is not valid."""

    code = "invalid"
    status_code = 400
    title = "That request did not work"


class ValidationFailed(Invalid):
    """A field has the wrong type or shape (HTTP 422)."""

    code = "validation_failed"
    status_code = 422


class Unauthenticated(KilnError):
    code = "unauthenticated"
    status_code = 401
    title = "Please log in"


class PermissionDenied(KilnError):
    code = "permission_denied"
    status_code = 403
    title = "Not allowed"


class NotFound(KilnError):
    code = "not_found"
    status_code = 404
    title = "Not found"


class MethodNotAllowed(KilnError):
    """The path exists but does not answer this HTTP method (raised by routing, not by services)."""

    code = "method_not_allowed"
    status_code = 405
    title = "Not allowed"


class Conflict(KilnError):
    code = "conflict"
    status_code = 409
    title = "Conflict"


class InvalidState(Conflict):
    """The target exists but its state forbids the operation (e.g. logging to a finished run)."""

    code = "invalid_state"


class PayloadTooLarge(KilnError):
    code = "payload_too_large"
    status_code = 413
    title = "Too large"


class RateLimited(KilnError):
    code = "rate_limited"
    status_code = 429
    title = "Too many requests"


class ChecksumMismatch(KilnError):
    """Stored bytes no longer match the checksum recorded when they were written."""

    code = "checksum_mismatch"
    status_code = 500


def registered_errors() -> dict[str, type[KilnError]]:
    """Every error class defined so far, by code (a copy)."""
    return dict(_BY_CODE)


def error_class_for_status(status_code: int) -> type[KilnError] | None:
    """The most general class answering ``status_code`` (409 → ``Conflict``, not ``InvalidState``)."""
    candidates = [cls for cls in _BY_CODE.values() if cls.status_code == status_code]
    # The shallowest class is the base the others refine.
    return min(candidates, key=lambda cls: len(cls.__mro__), default=None)


def error_from_payload(payload: Any, status_code: int) -> KilnError:
    """Rebuild the right error class from an API error body (used by the SDK).

    A code this process does not know (a newer server's domain error) becomes the most general class
    for the response's status, so ``except kiln.Conflict`` still catches it.
    """
    body = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        return KilnError(f"HTTP {status_code}: {payload!r}"[:500])
    code = str(body.get("code"))
    cls = _BY_CODE.get(code) or error_class_for_status(status_code) or KilnError
    error = cls(str(body.get("message", "")), details=body.get("details") or {})
    if cls.code != code:
        error.add_note(f"kiln: the server's error code {code!r} is unknown here; raised as {cls.__name__}")
    return error
