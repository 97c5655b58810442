"""UI page routes. Pages call the same services as the API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse


def mount_ui(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")
