"""Where the SDK sends requests and who it says it is: tracking URI, token and user name."""

from __future__ import annotations

import getpass
import os

DEFAULT_URL = "http://127.0.0.1:8000"

_tracking_uri: str | None = None


def set_tracking_uri(url: str | None) -> None:
    """Point the SDK at a Kiln server (overrides ``KILN_URL`` for this process; ``None`` undoes it)."""
    global _tracking_uri
    _tracking_uri = url.rstrip("/") if url else None
    # The default client was built for the old address; the next call builds a new one.
    from kiln.client import api

    api.reset_default_client()


def get_tracking_uri() -> str:
    """The server the SDK talks to: ``set_tracking_uri`` > ``KILN_URL`` > http://127.0.0.1:8000."""
    return (_tracking_uri or os.environ.get("KILN_URL") or DEFAULT_URL).rstrip("/")


def get_token() -> str | None:
    token = os.environ.get("KILN_TOKEN", "").strip()
    return token or None


def current_user() -> str:
    """The local account name, recorded as the run's user (self-declared until auth lands)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary uid in a container
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
