"""Form pages: an error becomes a message on the form with its status code; a success redirects with a notice.

Services raise Kiln's errors; a form shows their message where the user typed, with the status the
API would answer (401 for a failed login, 422 for a weak password, 429 when throttled), never a 500.
After a successful POST the browser is redirected (POST/redirect/GET) with a notice code in the URL;
the code picks one of the fixed messages below, so no text from the URL is ever shown on a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse

from kiln.auth.deps import get_rate_limits
from kiln.auth.ratelimit import RateLimits
from kiln.core.errors import KilnError, RateLimited, ValidationFailed

NOTICES = {
    "registered": "Your account is ready; log in. A link to confirm your email address is on its way.",
    "logged_out": "You are logged out.",
    "password_reset": "Your password is changed; log in with the new one.",
    "session_expired": "Your session has ended; log in again.",
    "profile_saved": "Your profile is saved.",
    "password_changed": "Your password is changed.",
    "key_revoked": "The API key is revoked; requests with it are refused from now on.",
    "user_updated": "The user is updated.",
    "reset_sent": "A password reset link is on its way; the user's sessions are ended.",
    "invited": "The invitation is on its way.",
    "project_created": "The project is created.",
    "member_saved": "The member is saved.",
    "member_removed": "The member is removed.",
    "notifications_read": "Every notification is marked read.",
    "notification_settings_saved": "Your notification settings are saved.",
    "version_drafted": "The version is saved as a draft: check its inputs, then finish it.",
    "staged": "The version passed its gates and is in staging.",
    "back_to_development": "The version is back in development.",
    "archived": "The version is archived.",
    "production_requested": "Production is requested: another approver decides it in their approvals inbox.",
    "alias_set": "The alias points at this version now.",
    "rolled_back": "Production is rolled back to the previous production version.",
    "gates_saved": "The gates are saved: the next promotion to staging checks them.",
    "approval_approved": "Approved: the version is in production, and the one it replaced is archived.",
    "approval_rejected": "Rejected: the version stays in staging.",
    "undeployed": "The deployment is stopped: serving processes stop answering for it within seconds.",
    "job_cancelled": "Cancelled: a queued job will not run; a running one stops at its next heartbeat.",
    "job_retried": "The job is queued again, with a fresh budget of attempts.",
    "drift_settings_saved": "The drift settings are saved: the next drift report uses them.",
    "drift_settings_deleted": "The drift settings are removed: the model's, or Kiln's defaults, apply again.",
    "alert_rule_created": "The alert rule is created: the scheduler judges it from the next minute.",
    "alert_rule_enabled": "The alert rule is enabled.",
    "alert_rule_disabled": "The alert rule is disabled: it opens no incident until enabled again.",
    "incident_acknowledged": "The incident is acknowledged; it stays open until its metric recovers.",
    "channel_created": "The channel is created.",
    "channel_enabled": "The channel is enabled.",
    "channel_disabled": "The channel is disabled: nothing is sent to it until enabled again.",
    "quarantine_released": "Released: the rows join the next version, where the rules judge them again.",
    "quarantine_discarded": "Discarded: the rows stay listed as discarded, with your note.",
}


@dataclass(frozen=True, slots=True)
class FormError:
    message: str
    status_code: int
    retry_after: int | None = None


def form_error(exc: KilnError | ValidationError) -> FormError:
    if isinstance(exc, ValidationError):
        return FormError(validation_message(exc), ValidationFailed.status_code)
    retry = exc.details.get("retry_after") if isinstance(exc, RateLimited) else None
    return FormError(exc.message, exc.status_code, retry if isinstance(retry, int) else None)


def validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where.replace('_', ' ')}: {message}" if where else message)
    return "; ".join(parts) or "the form is not valid"


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def redirect_with_notice(path: str, code: str) -> RedirectResponse:
    assert code in NOTICES, code
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}notice={code}", status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limits(request: Request) -> RateLimits:
    return get_rate_limits(request)


def throttle(request: Request, purpose: str, email: str | None = None) -> None:
    """The auth forms' limit, shared with the API's counters: per address, and per email and purpose."""
    rate_limits(request).throttle_form(client_ip(request), purpose, email)
