"""``/docs``: Swagger UI for the REST API, with its script and styles served from the installed
``fastapi-offline`` package: nothing is loaded from a CDN (air-gapped installs work, and no third
party's script runs on Kiln's origin). The page starts Swagger UI from Kiln's own ``swagger-init.js``,
since the content security policy allows no inline script.
"""

from __future__ import annotations

import html
import importlib.util
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from kiln.core.errors import NotFound
from kiln.ui.templating import static_url
from kiln.ui.vendor import JS_MEDIA_TYPE, bundle_response, load_bundle

router = APIRouter(include_in_schema=False)

_ASSETS = {"swagger-ui-bundle.js": JS_MEDIA_TYPE, "swagger-ui.css": "text/css; charset=utf-8"}
_PACKAGE = "fastapi_offline"


def _assets_version() -> str:
    try:
        return version("fastapi-offline")
    except PackageNotFoundError:
        return "missing"


def asset_path(name: str) -> Path | None:
    """The file inside the installed package, found without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "static" / name
        if candidate.is_file():
            return candidate
    return None


def docs_page(openapi_url: str) -> str:
    def asset(name: str) -> str:
        return html.escape(f"/docs/assets/{name}?v={_assets_version()}")

    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kiln API</title>
<link rel="icon" href="{html.escape(static_url("favicon.svg"))}">
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>
<script src="{asset("swagger-ui-bundle.js")}"></script>
<script src="{html.escape(static_url("swagger-init.js"))}"></script>
</body>
</html>
"""


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(docs_page(request.app.openapi_url or "/openapi.json"))


@router.get("/docs/assets/{name}")
def swagger_asset(request: Request, name: str) -> Response:
    path = asset_path(name) if name in _ASSETS else None
    if path is None:
        raise NotFound(f"{name} is not available: install the 'fastapi-offline' package")
    return bundle_response(request, load_bundle(path), _ASSETS[name])
