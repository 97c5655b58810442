"""HTTP for the SDK: identity headers, retries of transient failures, API errors mapped back to
Kiln's error classes.

Small JSON requests (nearly every call a training script makes) go over the standard library's
keep-alive connections (``client/keepalive.py``); streams, uploads, downloads, and every request when
a proxy is configured, go through one httpx client. Both follow the same retry rules.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpcore
import httpx
import orjson

from kiln import __version__
from kiln.client.keepalive import KeepAlivePool, StaleConnection
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
    """The body as JSON, keeping NaN and infinities (Kiln accepts the JSON NaN/Infinity literals, and
    NaN is a legitimate metric).

    orjson first: for a 1,000-metric batch the stdlib encoder was a third of the SDK's CPU. orjson
    writes NaN and infinities as ``null`` and refuses what it cannot write exactly (integers past 64
    bits, keys that are not text), so a body with a ``null`` anywhere, or one it refused, is written
    again by the stdlib encoder, which keeps them as sent.
    """
    try:
        body = orjson.dumps(payload, default=_jsonable)
    except TypeError:
        body = b"null"
    if b"null" not in body:
        return body
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


def _raise_for_body(status: int, body: bytes) -> None:
    """``raise_for_error`` for an answer read as bytes (the keep-alive path)."""
    if status < 400:
        return
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = body.decode("utf-8", errors="replace")[:500]
    raise error_from_payload(payload, status)


def _query_value(value: str | int | float) -> str:
    # As httpx writes them: booleans lower-case, everything else ``str``.
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _query_string(params: Params | None) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs.extend((key, _query_value(item)) for item in value)
        else:
            pairs.append((key, _query_value(value)))
    return urlencode(pairs)


# Characters a path keeps as they are; the rest is percent-encoded (an existing %XX stays).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def _header_line(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header cannot contain a line break")
    return f"{name}: {value}\r\n"


def _uses_proxy(url: str) -> bool:
    """Whether httpx would send ``url`` through a proxy from the environment (HTTP(S)_PROXY, ...)."""
    proxies = urllib.request.getproxies_environment()
    scheme = urlsplit(url).scheme
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass_environment(urlsplit(url).netloc, proxies)  # type: ignore[attr-defined]


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
        self._pool, self._prefix, self._fixed_head = self._keepalive(headers, timeout)

    def _keepalive(self, headers: Mapping[str, str], timeout: float) -> tuple[KeepAlivePool | None, str, str]:
        """The keep-alive pool for small JSON requests, the API's path prefix and the request head's
        fixed lines; no pool (httpx sends everything) for a proxy, credentials in the URL, or a scheme
        other than http(s)."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            return None, "", ""
        if _uses_proxy(self.base_url):
            return None, "", ""
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # The same trust as httpx's (certifi, SSL_CERT_FILE / SSL_CERT_DIR), HTTP/1.1 only.
        context = httpx.create_ssl_context() if parts.scheme == "https" else None
        if context is not None:
            context.set_alpn_protocols(["http/1.1"])
        pool = KeepAlivePool(host, port, ssl_context=context, connect_timeout=5.0, timeout=timeout)
        default_port = port == (443 if parts.scheme == "https" else 80)
        authority = f"[{host}]" if ":" in host else host
        if not default_port:
            authority = f"{authority}:{port}"
        fixed = _header_line("Host", authority) + "Accept: */*\r\n"
        fixed += "".join(_header_line(name, value) for name, value in headers.items())
        return pool, f"{parts.path.rstrip('/')}/api/v1", fixed

    def close(self) -> None:
        self._http.close()
        if self._pool is not None:
            self._pool.close()

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

    def _unreachable(self, exc: Exception) -> ServerUnreachable:
        return ServerUnreachable(
            f"could not reach Kiln at {self.base_url}: {exc or type(exc).__name__}",
            details={"url": self.base_url},
        )

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
                raise self._unreachable(exc) from exc
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
        if self._pool is not None and content is None:
            return self._small_request(self._pool, method, path, json_body, params, headers, retry_statuses)
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

    def _request_bytes(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: Params | None,
        headers: Mapping[str, str] | None,
    ) -> bytes:
        target = self._prefix + quote(path, safe=_PATH_SAFE)
        query = _query_string(params)
        if query:
            target = f"{target}?{query}"
        head = f"{method} {target} HTTP/1.1\r\n{self._fixed_head}"
        if headers:
            head += "".join(_header_line(name, value) for name, value in headers.items())
        body = b""
        if json_body is not None:
            body = encode_json(json_body)
            head += "Content-Type: application/json\r\n"
        if json_body is not None or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Length: {len(body)}\r\n"
        return (head + "\r\n").encode("latin-1") + body

    def _small_request(
        self,
        pool: KeepAlivePool,
        method: str,
        path: str,
        json_body: Any,
        params: Params | None,
        headers: Mapping[str, str] | None,
        retry_statuses: frozenset[int],
    ) -> Any:
        """``request`` over a kept-alive connection: same retries, same errors as through httpx."""
        data = self._request_bytes(method, path, json_body, params, headers)
        attempt = 0
        while True:
            try:
                try:
                    answer = pool.send(method, data)
                except StaleConnection:
                    # The server had closed the idle connection and refused this request's bytes, so
                    # it did not run: send it again at once, on a new connection.
                    answer = pool.send(method, data)
            except (httpx.TransportError, StaleConnection) as exc:
                error = exc if isinstance(exc, httpx.TransportError) else httpx.RemoteProtocolError(str(exc))
                if self._should_retry(method, attempt, error=error):
                    self._sleep(attempt)
                    attempt += 1
                    continue
                raise self._unreachable(exc) from exc
            if self._should_retry(method, attempt, error=None, status=answer.status, statuses=retry_statuses):
                self._sleep(attempt)
                attempt += 1
                continue
            _raise_for_body(answer.status, answer.body)
            return json.loads(answer.body) if answer.body else None
