"""The SDK client remote commands use: ``--url`` if given, else ``KILN_URL``, else the default."""

from __future__ import annotations

from kiln.client.api import Client

# Set by the root callback on every invocation, so nothing leaks from one command to the next.
server_url: str | None = None


def client() -> Client:
    return Client(server_url)
