"""Tracking's routes are matched first (kiln.app._include_hot_routes): that must shadow no other route."""

import re

from fastapi import FastAPI
from starlette.routing import Match

from kiln.tracking.router import router as tracking_router


def _concrete(path_format: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path_format)


def test_no_route_of_another_router_is_shadowed_by_tracking(app: FastAPI) -> None:
    others: list[tuple[str, set[str]]] = []
    for route in app.router.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else []
        for context in contexts:
            original = context.original_route
            if original not in tracking_router.routes:
                others.append((context.path_format, set(getattr(original, "methods", None) or {"GET"})))
    assert len(others) > 50  # every router's routes were seen
    for path_format, methods in others:
        for method in methods:
            scope = {"type": "http", "path": _concrete(path_format), "method": method, "root_path": ""}
            for route in tracking_router.routes:
                match, _ = route.matches(scope)
                assert match != Match.FULL, f"{method} {path_format} would be answered by tracking's {route}"


def test_tracking_answers_before_the_other_routers(app: FastAPI) -> None:
    included = [route for route in app.router.routes if hasattr(route, "effective_route_contexts")]
    first = next(iter(included[0].effective_route_contexts()))
    assert first.original_route in tracking_router.routes
