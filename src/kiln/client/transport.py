"""HTTP for the SDK: one httpx client, identity headers, retries of transient failures, API errors
mapped back to Kiln's error classes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from kiln import __version__
from kiln.core.errors import KilnError, error_from_payload

# Gateways and load balancers answer these while a server restarts; the request did not run.
RETRY_STATUSES = frozenset({502, 503, 504})
# Calls to a serving route: its 503 is Kiln's own answer (the deployment is not ready), not a restart.
GATEWAY_STATUSES = frozenset({502, 504})
# A failed connect never reached the server, so even a POST is safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})

Params = Mapping[str, str | int | float | list[str] | None]


class ServerUnreachable(KilnError):
    """The Kiln server could not be reached (after retries)."""

    code = "unreachable"
    status_code = 503


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays (``tolist``), dates and times (ISO 8601): what rows of data hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} cannot be sent as JSON")


def encode_json(payload: Any) -> bytes:
    # httpx refuses NaN; Kiln accepts the JSON NaN/Infinity literals, and NaN is a legitimate metric.
    return json.dumps(payload, separators=(",", ":"), allow_nan=True, default=_jsonable).encode()


def raise_for_error(response: httpx.Response) -> None:
    """Turn an error response into the matching ``KilnError`` subclass (``kiln.Conflict``, ...)."""
    if response.status_code < 400:
        return
    try:
        payload: Any = response.json()
    except ValueError:
        payload = response.text[:500]
    raise error_from_payload(payload, response.status_code)


# Writes held back until the answer is read, or until this many bytes wait (uploads stay streamed).
_COALESCE_BYTES = 64 * 1024


class _CoalescingStream(httpcore.NetworkStream):
    """Sends a request's head and body in one write.

    httpcore writes the head and a small body separately: on loopback each write wakes the server,
    which parses half a request; profiled, the client spent about 0.6 ms in each ``send`` of a
    training script's small requests. Holding writes until the answer is read costs nothing else: the
    bytes leave in the same order, only together.
    """

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def _flush(self, timeout: float | None) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            self._stream.write(data, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._pending.append(buffer)
        self._pending_bytes += len(buffer)
        if self._pending_bytes >= _COALESCE_BYTES:
            self._flush(timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._flush(timeout)
        return self._stream.read(max_bytes, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        self._flush(timeout)
        return _CoalescingStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _CoalescingBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _CoalescingStream(self._backend.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _CoalescingStream(self._backend.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _coalesce_writes(client: httpx.Client) -> None:
    """Give the client's direct connections a ``_CoalescingBackend``. httpx has no public setting for
    it, so this reaches its default transport's pool; with another httpx layout (or a proxy from the
    environment) nothing changes and requests go out as httpx sends them."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and isinstance(
        getattr(pool, "_network_backend", None), httpcore.NetworkBackend
    ):
        pool._network_backend = _CoalescingBackend(pool._network_backend)


class Transport:
    """Sends requests to ``{base_url}/api/v1`` and retries what is safe to retry, with backoff."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.25,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": f"kiln-python/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(
            base_url=f"{self.base_url}/api/v1", headers=headers, timeout=httpx.Timeout(timeout, connect=5.0)
        )
        _coalesce_writes(self._http)

    def close(self) -> None:
        self._http.close()

    def _should_retry(
        self,
        method: str,
        attempt: int,
        *,
        error: Exception | None,
        status: int = 0,
        statuses: frozenset[int] = RETRY_STATUSES,
    ) -> bool:
        if attempt >= self.retries:
            return False
        if error is not None:
            return isinstance(error, _NOT_SENT) or (
                method in _IDEMPOTENT and isinstance(error, httpx.TransportError)
            )
        return status in statuses

    def _sleep(self, attempt: int) -> None:
        time.sleep(min(self.backoff * (2**attempt), 4.0))

    def _build(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Params | None = None,
        content: Callable[[], Iterable[bytes]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        request_headers = dict(headers or {})
        body: bytes | Iterable[bytes] | None = None
        if json_body is not None:
            body = encode_json(json_body)
            request_headers["Content-Type"] = "application/json"
        elif content is not None:
            body = content()
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self._http.build_request(method, path, params=query, content=body, headers=request_headers)

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Params | None = None,
        content: Callable[[], Iterable[bytes]] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
    ) -> Iterator[httpx.Response]:
        """Send a request and yield the (unread) response; error statuses raise ``KilnError``.

        ``content`` is a factory so a retried upload starts again from its first byte; answers with
        a status in ``retry_statuses`` are sent again (after a backoff).
        """
        attempt = 0
        while True:
            request = self._build(
                method, path, json_body=json_body, params=params, content=content, headers=headers
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if self._should_retry(method, attempt, error=exc):
                    self._sleep(attempt)
                    attempt += 1
                    continue
                raise ServerUnreachable(
                    f"could not reach Kiln at {self.base_url}: {exc or type(exc).__name__}",
                    details={"url": self.base_url},
                ) from exc
            if self._should_retry(
                method, attempt, error=None, status=response.status_code, statuses=retry_statuses
            ):
                response.close()
                self._sleep(attempt)
                attempt += 1
                continue
            try:
                if response.status_code >= 400:
                    response.read()
                    raise_for_error(response)
                yield response
            finally:
                response.close()
            return

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Params | None = None,
        content: Callable[[], Iterable[bytes]] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
    ) -> Any:
        """Send a request and return the decoded JSON body."""
        with self.stream(
            method,
            path,
            json_body=json_body,
            params=params,
            content=content,
            headers=headers,
            retry_statuses=retry_statuses,
        ) as response:
            try:
                response.read()
            except httpx.TransportError as exc:
                raise ServerUnreachable(f"connection to Kiln at {self.base_url} broke: {exc}") from exc
            return response.json() if response.content else None
