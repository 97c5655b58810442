"""Alert delivery settings (``KILN_WEBHOOK_*``), read where a delivery runs (any worker process)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_WEBHOOK_", extra="ignore", frozen=True)

    # Off: webhook targets on loopback, link-local, private or reserved addresses are refused (no SSRF
    # through alert settings). An administrator turns it on for an internal receiver on purpose.
    allow_private: bool = False
    timeout: float = 10.0
