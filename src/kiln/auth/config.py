"""Auth settings resolved once per app (from ``Settings``), passed to services explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class AuthConfig:
    secret_key: str
    access_ttl: timedelta = timedelta(minutes=15)
    session_ttl: timedelta = timedelta(days=14)
    registration: str = "invite"  # "open", "invite" or "admin"
    public_url: str = "http://127.0.0.1:8000"
    reset_ttl: timedelta = timedelta(hours=1)
    confirm_ttl: timedelta = timedelta(days=3)
    invite_ttl: timedelta = timedelta(days=7)
    # The longest an API key may live (KILN_API_KEY_MAX_DAYS); no key lives forever.
    api_key_max_days: int = 365
