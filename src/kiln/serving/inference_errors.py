"""The Open Inference Protocol's error: an HTTP status and ``{"error": "<message>"}``.

This is the protocol's shape, not Kiln's usual ``{"error": {"code", "message"}}``: standard clients
(``tritonclient`` reads ``response["error"]`` as a string) must understand it unchanged. It is not a
``KilnError`` on purpose, so the application's handler never renders it in Kiln's shape; the OIP routes
catch it and answer ``error.body()`` with ``error.status``.

Statuses follow Triton's HTTP server: a client mistake and an unknown model are 400 (Triton's
INVALID_ARG); an unknown version of a known model is 404 (NOT_FOUND); a model that is not ready is
503 (UNAVAILABLE); a fault of ours is 500.
"""

from __future__ import annotations

import json

ERROR_HEADERS: dict[str, str] = {"Content-Type": "application/json"}


class InferenceProtocolError(Exception):
    """A request the protocol refuses, with the status to answer and a message that says what to fix."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def body(self) -> bytes:
        return json.dumps({"error": self.message}).encode()

    def response(self) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers): everything an HTTP route answers for this error."""
        return self.status, self.body(), dict(ERROR_HEADERS)


def unknown_model(name: str, known: list[str] | None = None, *, hint: str = "") -> InferenceProtocolError:
    listed = f"; this server has {', '.join(sorted(known))}" if known else ""
    said = f"; {hint}" if hint else ""
    return InferenceProtocolError(f"unknown model '{name}'{listed}{said}", status=400)


def unknown_version(name: str, version: str, versions: list[str]) -> InferenceProtocolError:
    listed = ", ".join(versions) if versions else "none"
    return InferenceProtocolError(
        f"model '{name}' has no version '{version}'; its versions are: {listed}", status=404
    )


def model_not_ready(name: str, reason: str = "") -> InferenceProtocolError:
    detail = f": {reason}" if reason else ""
    return InferenceProtocolError(f"model '{name}' is not ready{detail}", status=503)
