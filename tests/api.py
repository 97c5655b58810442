"""What every domain's API shares in tests: the path prefix and the one shape of a refused call."""

from __future__ import annotations

from typing import Any

API = "/api/v1"


def error_of(response: Any) -> dict[str, Any]:
    """The error object of a refused call, after checking it has the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    return error
