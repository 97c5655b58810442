"""Settings come in one section per domain, read from the same ``KILN_*`` variables as before (review P13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.notify.settings import SmtpSettings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    for name, value in {
        "KILN_HOME": str(home),
        "KILN_LOG_LEVEL": "WARNING",
        "KILN_SMTP_HOST": "mail.example.com",
        "KILN_SMTP_PORT": "2525",
        "KILN_SMTP_SSL": "true",
        "KILN_API_KEY_MAX_DAYS": "30",
        "KILN_REGISTRATION": "open",
        "KILN_MAX_UPLOAD_BYTES": "1234",
        "KILN_ARTIFACT_ROOT": str(tmp_path / "objects"),
        "KILN_PORT": "9000",
    }.items():
        monkeypatch.setenv(name, value)
    return home


def test_each_variable_lands_in_its_section(environment: Path, tmp_path: Path) -> None:
    settings = KilnSettings()
    assert settings.home == environment
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.ssl) == ("mail.example.com", 2525, True)
    assert (settings.auth.api_key_max_days, settings.auth.registration) == (30, "open")
    assert settings.http.max_upload_bytes == 1234
    assert settings.storage.artifact_root == str(tmp_path / "objects")
    assert settings.server.port == 9000


def test_the_app_runs_on_the_sections_it_was_given(environment: Path, tmp_path: Path) -> None:
    app = create_app(KilnSettings())
    try:
        state = kiln_state(app)
        assert state.mailer.settings == SmtpSettings()
        assert state.mailer.settings.host == "mail.example.com"
        assert state.auth_config.api_key_max_days == 30
        assert state.auth_config.registration == "open"
        assert state.store.root_url == str(tmp_path / "objects")
    finally:
        kiln_state(app).db.dispose()


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_API_KEY_MAX_DAYS", "0")
    with pytest.raises(ValueError, match="api_key_max_days"):
        KilnSettings()
