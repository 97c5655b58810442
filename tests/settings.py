"""The settings and the clean database every test app is built on (the conftest's fixtures use them;
a module-scoped app, such as a live server shared by a module's tests, calls them itself)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kiln.app import KilnSettings
from kiln.auth.settings import AuthSettings
from kiln.core.db import Database
from kiln.core.settings import HttpSettings
from kiln.jobs.settings import WorkerSettings
from kiln.models_registry import metadata
from kiln.storage.settings import StorageSettings

# The audit chain's HMAC key; CLI tests hand the same one to `kiln audit` through KILN_AUDIT_KEY.
TEST_AUDIT_KEY = "test-audit-key-0123456789-abcdefghijklmnopq"


def empty_all_tables(db: Database) -> None:
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


def settings_for_tests(folder: Path, database_url: str) -> KilnSettings:
    """Settings of a test app: its home and artifacts under ``folder``, on the test database."""
    return KilnSettings(
        home=folder / "home",
        database_url=database_url,
        log_json=True,
        log_level="WARNING",
        secret_key="test-secret-key-0123456789-abcdefghijklmnop",
        audit_key=TEST_AUDIT_KEY,
        storage=StorageSettings(artifact_root=str(folder / "artifacts")),
        http=HttpSettings(max_upload_bytes=5 * 1024 * 1024),
        # Tests call the API far faster than a person; the rate-limit tests set their own limits.
        auth=AuthSettings(rate_limit="100000/minute", login_rate_limit="1000/minute"),
        # No job worker in test apps: the tests that need one start it themselves.
        worker=WorkerSettings(enabled=False),
    )
