"""Webhook targets, checked against server-side request forgery when saved and again at delivery.

A target is an ``http(s)`` URL without credentials whose host resolves only to public addresses:
loopback, link-local (cloud metadata at 169.254.169.254), private, shared, multicast, reserved and
unspecified addresses are refused unless ``KILN_WEBHOOK_ALLOW_PRIVATE`` is on. Delivery connects to
the address that was checked (the name is resolved once), so a DNS answer that changes between
the check and the request (rebinding) cannot redirect it; redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from kiln.core.errors import Invalid

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: str
    host: str
    address: str

    @property
    def pinned_url(self) -> str:
        """``url`` with its host replaced by the checked address (the Host header keeps the name)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def refusal(address: IpAddress) -> str | None:
    """Why an address is not a public one (``None`` when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for reason, flagged in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
        ("not globally routable", not address.is_global),
    ):
        if flagged:
            return reason
    return None


def check_url(url: str) -> tuple[str, int]:
    """The host and port of a webhook URL whose form is acceptable; ``Invalid`` naming the problem."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Invalid(f"webhook url is not a valid URL: {exc}", details={"field": "url"}) from None
    if parts.scheme not in ("http", "https"):
        raise Invalid("a webhook url starts with https:// (or http://)", details={"field": "url"})
    if not parts.hostname:
        raise Invalid("a webhook url names a host", details={"field": "url"})
    if parts.username or parts.password:
        raise Invalid(
            "a webhook url may not carry a user or password; sign requests with the channel's secret",
            details={"field": "url"},
        )
    if parts.fragment:
        raise Invalid("a webhook url has no #fragment", details={"field": "url"})
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and resolve its host; ``Invalid`` if it is malformed, does not resolve, or
    reaches a non-public address while private targets are not allowed."""
    host, port = check_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Invalid(f"webhook host {host!r} does not resolve: {exc}", details={"field": "url"}) from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise Invalid(f"webhook host {host!r} does not resolve", details={"field": "url"})
    if not allow_private:
        for text in addresses:
            reason = refusal(ipaddress.ip_address(text))
            if reason is not None:
                raise Invalid(
                    f"webhook host {host!r} resolves to {text}, a {reason} address; alerts are not "
                    "sent inside the server's network unless an administrator sets "
                    "KILN_WEBHOOK_ALLOW_PRIVATE=1",
                    details={"field": "url"},
                )
    return Target(url=url.strip(), host=host, address=addresses[0])
