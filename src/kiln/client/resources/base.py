"""What every resource class shares: the transport, and path segments quoted once."""

from __future__ import annotations

from urllib.parse import quote

from kiln.client.transport import Transport


def segment(value: str) -> str:
    """``value`` as one URL path segment (a ``/`` in an id cannot reach another route)."""
    return quote(value, safe="")


class Resource:
    """Base of ``client.<resource>``: the calls of one REST resource over the client's transport."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
