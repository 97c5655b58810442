"""How remote commands reach the server: ``--url`` if given, else ``KILN_URL``, else the default.

The root callback stores a ``Remote`` on Typer's context (``ctx.obj``) and every remote command
takes ``ctx: typer.Context`` and asks it for its client, so nothing is kept in a module global
between invocations (or between commands run in one process, as the tests do).
"""

from __future__ import annotations

from dataclasses import dataclass

import typer

from kiln.client.api import Client
from kiln.client.config import get_tracking_uri


@dataclass(frozen=True)
class Remote:
    url: str | None = None

    @property
    def resolved_url(self) -> str:
        return (self.url or get_tracking_uri()).rstrip("/")

    def client(self, *, token: str | None = None) -> Client:
        """The SDK for this server, with ``token`` or else ``KILN_TOKEN`` / the key ``kiln login`` saved."""
        return Client(self.resolved_url, token=token)


def of(ctx: typer.Context) -> Remote:
    """The server this invocation talks to (a command run without the root callback: the default)."""
    return ctx.find_object(Remote) or Remote()


def client(ctx: typer.Context) -> Client:
    return of(ctx).client()
