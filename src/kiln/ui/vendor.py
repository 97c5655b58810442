"""Serves Plotly's browser bundle from the installed ``plotly`` package (nothing third-party is committed).

The file is found with ``find_spec`` rather than by importing plotly, which would add seconds to
server start. It is 4-5 MB, so it is sent gzip-compressed (compressed once, kept in memory) to
browsers that accept it, with a validator and long cache lifetime: pages link it with the plotly
version in the query, so an upgrade changes the URL.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

from kiln.core.errors import NotFound

router = APIRouter(include_in_schema=False)

JS_MEDIA_TYPE = "text/javascript; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Bundle:
    raw: bytes
    gzipped: bytes
    etag: str


def plotly_js_path() -> Path | None:
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "package_data" / "plotly.min.js"
        if candidate.is_file():
            return candidate
    return None


_lock = threading.Lock()


@cache
def _load_bundle(path: Path, mtime_ns: int) -> Bundle:
    raw = path.read_bytes()
    return Bundle(
        raw=raw,
        gzipped=gzip.compress(raw, compresslevel=6),
        etag='"' + hashlib.sha256(raw).hexdigest()[:32] + '"',
    )


def load_bundle(path: Path) -> Bundle:
    # One thread compresses; concurrent first requests wait instead of compressing the file again.
    with _lock:
        return _load_bundle(path, path.stat().st_mtime_ns)


def plotly_bundle() -> Bundle:
    path = plotly_js_path()
    if path is None:
        raise NotFound("plotly.min.js is not available: install the 'plotly' package")
    return load_bundle(path)


@router.get("/static/vendor/plotly.min.js")
def plotly_js(request: Request) -> Response:
    return bundle_response(request, plotly_bundle(), JS_MEDIA_TYPE)


def bundle_response(request: Request, bundle: Bundle, media_type: str) -> Response:
    # Pages link a bundle with ?v=<package version>: that URL's content never changes.
    versioned = bool(request.query_params.get("v"))
    cache_control = "public, max-age=31536000, immutable" if versioned else "public, max-age=86400"
    headers = {"etag": bundle.etag, "cache-control": cache_control, "vary": "accept-encoding"}
    if bundle.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(bundle.gzipped, media_type=media_type, headers=headers)
    return Response(bundle.raw, media_type=media_type, headers=headers)
