"""Runtime settings, read once from the environment (prefix ``KILN_``).

The defaults make an embedded install: SQLite and a local artifact folder under ``KILN_HOME``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".kiln"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    artifact_root: str | None = None
    secret_key: str | None = None
    # Keys the audit chain's HMAC; kept outside the database (generated into $KILN_HOME/audit.key
    # for an embedded install). Not the secret key: that one may be shared with the database host.
    audit_key: str | None = None
    log_level: str = "INFO"
    # "auto": JSON lines unless the log goes to a terminal (then human-readable); or true / false.
    log_json: bool | Literal["auto"] = "auto"
    # Largest single artifact upload the server accepts, in bytes.
    max_upload_bytes: int = 512 * 1024 * 1024
    # Largest JSON request body, in bytes (batch logging included).
    max_json_bytes: int = 32 * 1024 * 1024
    # Largest UI form body (urlencoded or multipart), in bytes: forms carry a few short fields.
    max_form_bytes: int = 1024 * 1024
    # For S3-compatible stores other than AWS (MinIO, moto); credentials come from the AWS_* variables.
    s3_endpoint_url: str | None = None
    # Accounts and sessions.
    registration: Literal["open", "invite", "admin"] = "invite"
    public_url: str = "http://127.0.0.1:8000"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_days: int = Field(default=14, ge=1, le=365)
    rate_limit: str = "1200/minute"
    login_rate_limit: str = "10/minute"
    rate_limit_storage: str = "memory://"
    # The longest lifetime an API key may be given (and has, whatever it was given), in days.
    api_key_max_days: int = Field(default=365, ge=1, le=3650)
    # Outgoing mail; without a host, mail is logged instead of sent.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "kiln@localhost"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    # Reverse proxies trusted for X-Forwarded-For/-Proto (uvicorn's FORWARDED_ALLOW_IPS); None: loopback.
    forwarded_allow_ips: str | None = None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'kiln.db'}"

    @property
    def resolved_artifact_root(self) -> str:
        return self.artifact_root or str(self.home / "artifacts")

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
