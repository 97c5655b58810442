"""KILN_HOME, the database, keys and artifacts are readable by their owner only (L6)."""

from __future__ import annotations

import stat
from pathlib import Path

from fastapi.testclient import TestClient

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.auth.settings import AuthSettings
from kiln.core.settings import Settings
from tests.builders import make_user_token
from tests.tracking.api import API, create_run


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_embedded_install_keeps_its_files_to_its_owner(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = KilnSettings(home=home, log_level="WARNING", auth=AuthSettings(rate_limit="100000/minute"))
    app = create_app(settings)
    try:
        token = make_user_token(app, "owner@kiln.test", role="admin")
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            run = create_run(client)
            assert (
                client.put(f"{API}/runs/{run['id']}/artifacts/model/weights.bin", content=b"w").status_code
                == 201
            )
    finally:
        kiln_state(app).db.dispose()
    assert mode(home) == 0o700
    assert mode(home / "kiln.db") == 0o600
    assert mode(home / "secret.key") == 0o600
    assert mode(home / "audit.key") == 0o600
    # Each upload is stored under its own object key; the one file there holds the bytes.
    (artifact,) = [path for path in (home / "artifacts").rglob("*") if path.is_file()]
    assert artifact.read_bytes() == b"w"
    assert mode(artifact) == 0o600
    folder = artifact.parent
    while folder != home:
        assert mode(folder) == 0o700, folder
        folder = folder.parent


def test_a_home_left_open_by_an_older_release_is_closed(tmp_path: Path) -> None:
    home = tmp_path / "old-home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    Settings(home=home).ensure_home()
    assert mode(home) == 0o700
