"""Auth settings resolved once per app (from ``AuthSettings``), passed to services explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from kiln.auth.settings import AuthSettings


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

    @classmethod
    def from_settings(cls, settings: AuthSettings, *, secret_key: str) -> AuthConfig:
        return cls(
            secret_key=secret_key,
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            session_ttl=timedelta(days=settings.session_days),
            registration=settings.registration,
            public_url=settings.public_url,
            api_key_max_days=settings.api_key_max_days,
        )
