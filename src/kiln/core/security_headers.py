"""Headers every response carries, so the browser enforces what the server means.

- ``X-Content-Type-Options: nosniff`` everywhere: an artifact or JSON body is never run as a script
  or page because it happens to look like one.
- No framing anywhere (``X-Frame-Options`` and CSP ``frame-ancestors``): clickjacking.
- HTML pages get a script policy: only Kiln's own files run, no inline script or event handler, so an
  HTML injection that slipped past escaping still cannot execute. Other responses get ``default-src
  'none'``: opened directly in a tab, they load and run nothing.

``RequestContextMiddleware`` (kiln.core.http) adds them to every response start, 413s and 500s
included; a header the route set itself is kept.
"""

from __future__ import annotations

# Styles may be inline: Plotly inserts its <style> rules (global and per chart) at run time, and its
# opt-out covers only the global ones. Script stays same-origin files only, which is what keeps an
# injection from running code; an inline style can restyle a page, not read or send anything.
HTML_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_FRAMES = (b"x-frame-options", b"DENY")
_CSP = b"content-security-policy"
_HTML_CSP = (_CSP, HTML_POLICY.encode())
_OTHER_CSP = (_CSP, OTHER_POLICY.encode())


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` (a response start's raw list) with each security header it lacks appended.

    On the raw list rather than through ``MutableHeaders``: this runs for every response, and the
    one-row predict path is counted in tens of microseconds.
    """
    html = False
    nosniff = frames = csp = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            html = value.startswith(b"text/html")
        elif lowered == _NOSNIFF[0]:
            nosniff = True
        elif lowered == _NO_FRAMES[0]:
            frames = True
        elif lowered == _CSP:
            csp = True
    added = [
        *(() if nosniff else (_NOSNIFF,)),
        *(() if frames else (_NO_FRAMES,)),
        *(() if csp else (_HTML_CSP if html else _OTHER_CSP,)),
    ]
    return [*headers, *added] if added else headers
