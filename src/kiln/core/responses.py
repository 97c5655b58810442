"""Answers serialized once, for the hot API routes.

A route declared with ``response_model=X`` that returns an ``X`` has FastAPI validate the object
against ``X`` again and then serialize it, in a thread-pool hand-off of its own for a ``def`` route.
The hot tracking routes already build exactly that model, so they return its JSON themselves;
``response_model`` stays on the decorator for the OpenAPI schema. The bytes are the same: pydantic's
serializer with the model's own settings (``ReadSchema``: NaN and infinities as strings).
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` as the JSON body FastAPI would have sent for ``response_model=type(model)``."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
