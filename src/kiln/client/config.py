"""Where the SDK sends requests and who it says it is: tracking URI, token and user name."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"

_tracking_uri: str | None = None
# Bumped by every set_tracking_uri: the default client (kiln.client.api) was built for the old
# address and rebuilds itself when it sees a newer generation. Nothing here imports the client.
_generation = 0


def set_tracking_uri(url: str | None) -> None:
    """Point the SDK at a Kiln server (overrides ``KILN_URL`` for this process; ``None`` undoes it)."""
    global _tracking_uri, _generation
    _tracking_uri = url.rstrip("/") if url else None
    _generation += 1


def generation() -> int:
    """How many times ``set_tracking_uri`` was called: a changed value means "reconnect"."""
    return _generation


def get_tracking_uri() -> str:
    """The server the SDK talks to: ``set_tracking_uri`` > ``KILN_URL`` > http://127.0.0.1:8000."""
    return (_tracking_uri or os.environ.get("KILN_URL") or DEFAULT_URL).rstrip("/")


def credentials_path() -> Path:
    """Where ``kiln login`` keeps keys: ``$KILN_CONFIG_DIR`` or ``~/.config/kiln``, file mode 0600."""
    root = os.environ.get("KILN_CONFIG_DIR") or str(Path.home() / ".config" / "kiln")
    return Path(root) / "credentials.json"


def read_credentials() -> dict[str, str]:
    """Saved keys by server URL; an unreadable or malformed file counts as none."""
    try:
        data = json.loads(credentials_path().read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_credential(url: str, key: str | None) -> None:
    """Store (or, with ``None``, forget) the key for ``url``; the file is created with mode 0600."""
    saved = read_credentials()
    if key is None:
        saved.pop(url.rstrip("/"), None)
    else:
        saved[url.rstrip("/")] = key
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(saved, handle, indent=2)
    os.chmod(path, 0o600)


def get_token(url: str | None = None) -> str | None:
    """``KILN_TOKEN``, else the key ``kiln login`` saved for this server."""
    token = os.environ.get("KILN_TOKEN", "").strip()
    if token:
        return token
    return read_credentials().get((url or get_tracking_uri()).rstrip("/"))
