"""Accounts, sessions, API keys and rate limits (``KILN_REGISTRATION``, ``KILN_API_KEY_MAX_DAYS``, ...).

``AuthConfig.from_settings`` turns this section into what the services take, once per app.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    registration: Literal["open", "invite", "admin"] = "invite"
    public_url: str = "http://127.0.0.1:8000"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_days: int = Field(default=14, ge=1, le=365)
    # The longest lifetime an API key may be given (and has, whatever it was given), in days.
    api_key_max_days: int = Field(default=365, ge=1, le=3650)
    rate_limit: str = "1200/minute"
    login_rate_limit: str = "10/minute"
    rate_limit_storage: str = "memory://"
    # The credential cache (auth/credential_cache.py): credentials kept (LRU), and how
    # often each process polls the auth revision (a revoked key stops working everywhere within this).
    credential_cache_size: int = Field(default=10_000, ge=1, le=1_000_000)
    credential_poll_seconds: float = Field(default=1.0, gt=0.0, le=60.0)
