"""The Jinja2 environment every page renders with, and ``render`` to answer a request with a page."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from kiln import __version__
from kiln.ui import formatting
from kiln.ui.page_context import page_context

UI_DIR = Path(__file__).parent
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"


def _plotly_version() -> str:
    # Read from the installed distribution's metadata: importing plotly itself would slow server start.
    try:
        return version("plotly")
    except PackageNotFoundError:
        return "missing"


def static_url(path: str) -> str:
    """Kiln's own static files, with the release in the query so browsers refetch after an upgrade."""
    return f"/static/{quote(path)}?v={__version__}"


def url_with(path: str, **params: str | int | None) -> str:
    """``path`` with the non-empty query parameters, e.g. a sort link that keeps the current filter."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return f"{path}?{query}" if query else path


def artifact_download_url(run_id: str, path: str) -> str:
    return f"/api/v1/runs/{quote(run_id)}/artifacts/{quote(path)}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Chart data is embedded as JSON: a NaN left in it would make the page's JSON unparseable,
    # so refuse to render it at all (the chart builders turn NaN and infinities into null).
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "allow_nan": False, "separators": (",", ":")}
    env.filters.update(
        time=formatting.format_time,
        metric=formatting.format_metric,
        full_metric=formatting.full_metric,
        size=formatting.format_size,
        json_text=formatting.format_json,
    )
    env.globals.update(
        duration=formatting.format_duration,
        static_url=static_url,
        url_with=url_with,
        artifact_download_url=artifact_download_url,
        kiln_version=__version__,
        plotly_url=f"/static/vendor/plotly.min.js?v={_plotly_version()}",
    )
    return env


templates = Jinja2Templates(env=_environment(), context_processors=[page_context])


def install_navigation(nav_items: tuple[Any, ...], account_items: tuple[Any, ...]) -> None:
    """The header's entries, set by ``ui/router.py``: pages render through here, so it cannot import them."""
    templates.env.globals.update(nav_items=nav_items, account_items=account_items)


def install_header_parts(**parts: Any) -> None:
    """Header parts that ask a domain's service (the notification bell's count), set by ``ui/router.py``."""
    templates.env.globals.update(parts)


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    # Pages show live data: never let a proxy or the browser serve a stale copy.
    response.headers["cache-control"] = "no-store"
    # Tokens in a page's URL (a password reset link) must not leak to other sites in the Referer.
    # Framing and script policy: core/security_headers.py, on every response.
    response.headers["referrer-policy"] = "same-origin"
    return response
