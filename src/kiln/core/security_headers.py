"""Headers every response carries, so the browser enforces what the server means.

- ``X-Content-Type-Options: nosniff`` everywhere: an artifact or JSON body is never run as a script
  or page because it happens to look like one.
- No framing anywhere (``X-Frame-Options`` and CSP ``frame-ancestors``): clickjacking.
- HTML pages get a script policy: only Kiln's own files run, no inline script or event handler, so an
  HTML injection that slipped past escaping still cannot execute. Other responses get ``default-src
  'none'``: opened directly in a tab, they load and run nothing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Styles may be inline: Plotly inserts its <style> rules (global and per chart) at run time, and its
# opt-out covers only the global ones. Script stays same-origin files only, which is what keeps an
# injection from running code; an inline style can restyle a page, not read or send anything.
HTML_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("content-security-policy", HTML_POLICY if html else OTHER_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)
