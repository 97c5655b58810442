"""How large a request body may be, decided by route before anything reads it.

FastAPI reads a body whole, whatever its content type, before any dependency (authentication
included) runs. So every body is capped by the JSON limit, UI form bodies by a smaller one, and only
the routes declared in ``UPLOAD_ROUTES`` (which stream to disk and check their own size) take up to
the upload limit. A domain with an upload route adds it there; ``check_upload_routes`` fails app
creation if a declared route does not exist, so a renamed route cannot silently lose its limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.routing import Match, compile_path


@dataclass(frozen=True, slots=True)
class UploadRoute:
    method: str
    path: str  # the route's template, e.g. "/api/v1/runs/{run_id}/artifacts/{path:path}"

    @property
    def pattern(self) -> re.Pattern[str]:
        return compile_path(self.path)[0]


# The only routes that take bodies larger than KILN_MAX_JSON_BYTES (up to KILN_MAX_UPLOAD_BYTES).
UPLOAD_ROUTES: tuple[UploadRoute, ...] = (
    UploadRoute("PUT", "/api/v1/runs/{run_id}/artifacts/{path:path}"),
    UploadRoute("POST", "/api/v1/models/{name}/versions/upload"),
    UploadRoute("POST", "/api/v1/datasets/{name}/versions"),
    UploadRoute("POST", "/api/v1/datasets/{name}/records/file"),
    UploadRoute("POST", "/models/upload"),  # the UI's registration form (multipart)
)

_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


@dataclass(frozen=True, slots=True)
class BodyLimit:
    max_bytes: int
    setting: str  # named in the 413 message, so an operator knows what to raise


class BodyLimits:
    """Picks the limit for one request from its method, path and content type."""

    def __init__(
        self,
        *,
        max_json_bytes: int,
        max_form_bytes: int,
        max_upload_bytes: int,
        uploads: tuple[UploadRoute, ...],
    ) -> None:
        self.json = BodyLimit(max_json_bytes, "KILN_MAX_JSON_BYTES")
        self.form = BodyLimit(max_form_bytes, "KILN_MAX_FORM_BYTES")
        self.upload = BodyLimit(max_upload_bytes, "KILN_MAX_UPLOAD_BYTES")
        self._uploads = [(route.method, route.pattern) for route in uploads]

    def for_request(self, method: str, path: str, content_type: bytes) -> BodyLimit:
        if any(method == wanted and pattern.match(path) for wanted, pattern in self._uploads):
            return self.upload
        media_type = content_type.split(b";", 1)[0].strip().lower()
        return self.form if media_type in _FORM_TYPES else self.json


def check_upload_routes(app: FastAPI, uploads: tuple[UploadRoute, ...] = UPLOAD_ROUTES) -> None:
    """Every declared upload route must be served by the app (a sample path of it reaches a route)."""
    missing = [f"{u.method} {u.path}" for u in uploads if not _served(app, u)]
    if missing:
        raise RuntimeError(f"UPLOAD_ROUTES names routes the app does not serve: {', '.join(missing)}")


def _served(app: FastAPI, upload: UploadRoute) -> bool:
    sample = re.sub(r"{[^}]+}", "x", upload.path)
    scope = {"type": "http", "method": upload.method, "path": sample, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in app.router.routes)
