"""Outgoing mail (``KILN_SMTP_*``); without a host, mail is logged instead of sent."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_SMTP_", extra="ignore", frozen=True)

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    sender: str = "kiln@localhost"
    starttls: bool = False
    # Implicit TLS (SMTPS, usually port 465), as opposed to STARTTLS: KILN_SMTP_SSL.
    ssl: bool = False
    timeout: float = 10.0
