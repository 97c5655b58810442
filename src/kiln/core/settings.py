"""Runtime settings, read once from the environment (prefix ``KILN_``), in one section per concern.

Core's own (home, database, keys, logging) and its sections (HTTP limits, the server) are here. Each
domain defines its section next to its code (``notify/settings.py``, ``auth/settings.py``, ...), and
``kiln.app.KilnSettings`` composes them: core may not import the domains. A section keeps the
variable names it had (``KILN_SMTP_HOST``, ``KILN_MAX_UPLOAD_BYTES``): its prefix is part of the name.

The defaults make an embedded install: SQLite and a local artifact folder under ``KILN_HOME``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".kiln"


class HttpSettings(BaseSettings):
    """Request body limits (``KILN_MAX_*_BYTES``), applied by ``core/body_limits.py``."""

    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    # Largest single artifact upload the server accepts, in bytes.
    max_upload_bytes: int = 512 * 1024 * 1024
    # Largest JSON request body, in bytes (batch logging included).
    max_json_bytes: int = 32 * 1024 * 1024
    # Largest UI form body (urlencoded or multipart), in bytes: forms carry a few short fields.
    max_form_bytes: int = 1024 * 1024


class ServerSettings(BaseSettings):
    """Where ``kiln server`` listens (``KILN_HOST``, ``KILN_PORT``) and whom it trusts as a proxy."""

    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Reverse proxies trusted for X-Forwarded-For/-Proto (uvicorn's FORWARDED_ALLOW_IPS); None: loopback.
    forwarded_allow_ips: str | None = None


class Settings(BaseSettings):
    """Core's settings and sections. Domains above core add theirs in ``kiln.app.KilnSettings``."""

    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    # Signs access tokens; generated into $KILN_HOME/secret.key for an embedded install.
    secret_key: str | None = None
    # Keys the audit chain's HMAC; kept outside the database (generated into $KILN_HOME/audit.key
    # for an embedded install). Not the secret key: that one may be shared with the database host.
    audit_key: str | None = None
    log_level: str = "INFO"
    # "auto": JSON lines unless the log goes to a terminal (then human-readable); or true / false.
    log_json: bool | Literal["auto"] = "auto"
    # Each section reads its own variables (same names as before sections existed).
    http: HttpSettings = Field(default_factory=HttpSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    def with_sections(self, **changes: dict[str, Any]) -> Self:
        """A copy with some sections' fields changed: ``with_sections(auth={"registration": "open"})``."""
        return self.model_copy(
            update={name: getattr(self, name).model_copy(update=fields) for name, fields in changes.items()}
        )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'kiln.db'}"

    def ensure_home(self) -> None:
        """Create ``KILN_HOME`` readable by the owner only: it holds the database, keys and artifacts."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A home made by an older release (or by hand) may be 0755: close it, if it is ours.
        status = self.home.stat()
        if status.st_uid == os.getuid() and status.st_mode & 0o077:
            self.home.chmod(0o700)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
