"""Generated key files (secret.key, audit.key): made once, 0600; an empty one (a crash while it was
written) is replaced; a short one is refused at start with a message that says what to do."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.core.security import resolve_audit_key, resolve_secret_key


def embedded(home: Path) -> KilnSettings:
    return KilnSettings(home=home, log_level="WARNING")


def test_a_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = resolve_secret_key(None, tmp_path, embedded=True)
    assert len(first) >= 32
    assert resolve_secret_key(None, tmp_path, embedded=True) == first
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert resolve_audit_key(None, tmp_path, embedded=True) != first  # a key of its own


def test_an_empty_key_file_is_replaced_and_logins_work(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.key").write_text("")
    app = create_app(embedded(home))
    try:
        assert len(kiln_state(app).auth_config.secret_key) >= 32
        assert (home / "secret.key").read_text() == kiln_state(app).auth_config.secret_key
    finally:
        kiln_state(app).db.dispose()


@pytest.mark.parametrize("name", ["secret.key", "audit.key"])
def test_a_short_key_file_stops_the_start_with_a_clear_message(tmp_path: Path, name: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / name).write_text("short")
    with pytest.raises(ValueError, match=rf"{name} holds a key of 5 characters; it needs at least 32"):
        create_app(embedded(home))


def test_a_shared_database_needs_an_audit_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="set KILN_AUDIT_KEY"):
        resolve_audit_key(None, tmp_path, embedded=False)
    assert not (tmp_path / "audit.key").exists()
