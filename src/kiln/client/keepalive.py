"""Keep-alive HTTP/1.1 connections for the SDK's small JSON requests, on the standard library.

A training script's calls (create a run, log a batch, finish it) are tiny requests, and on them
httpx's per-request machinery (building a ``Request``, merging URLs, header objects, the httpcore pool
and h11's state machine) was most of the SDK's CPU: 1.4-2.2 ms for the three requests of a run
(``python -m bench.run_cost``). This sends the same request as raw bytes in one write on a kept-alive
socket and reads the answer's status line, headers and body (Content-Length or chunked) itself
(``http.client``'s header parsing, through the ``email`` package, was half of what remained):
0.3-0.45 ms a run.

Only what that path needs is here: no proxies, no redirects, no cookies, no compression (none is
asked for, so none is answered). ``transport.Transport`` sends streams, uploads and downloads, and
every request when a proxy is configured, through httpx as before.

Failures are raised as the httpx exceptions of the same meaning (``ConnectError``, ``ReadTimeout``,
``RemoteProtocolError``, ...), so the transport's retry rules treat both paths alike.
"""

from __future__ import annotations

import errno
import http.client
import os
import select
import socket
import ssl
import threading
from dataclasses import dataclass

import httpx

# A kept-alive connection the server closed while it sat idle fails like this on first use.
_CLOSED_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE})


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class StaleConnection(Exception):
    """A reused connection refused the request's bytes: the server had closed it, nothing ran."""


_MAX_LINE = 65536
_MAX_HEADERS = 100


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.pid = os.getpid()

    def is_stale(self) -> bool:
        """An idle connection the server closed (EOF waiting) or that has unexpected bytes: not reusable."""
        if self.pid != os.getpid():
            return True  # inherited through fork: the parent may be using the same socket
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _line(self) -> bytes:
        line = self.reader.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        return line

    def read_answer(self, method: str) -> tuple[int, bytes, bool]:
        """(status, body, whether the server closes the connection after it).

        The status line and headers are parsed here: ``http.client`` parses headers with the
        ``email`` package, which cost more than the rest of a small request.
        """
        while True:
            status_line = self._line()
            if not status_line:
                raise http.client.RemoteDisconnected("the server closed the connection without answering")
            try:
                version, code, *_ = status_line.split(None, 2)
                status = int(code)
            except ValueError:
                raise http.client.BadStatusLine(status_line.decode("latin-1")) from None
            headers: dict[str, str] = {}
            for _ in range(_MAX_HEADERS + 1):
                line = self._line()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                key = name.strip().lower()
                value = value.strip()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            else:
                raise http.client.HTTPException(f"more than {_MAX_HEADERS} headers in the answer")
            if status >= 200 or status == 101:
                break  # 1xx interim answers (100 Continue) are skipped
        connection = headers.get("connection", "").lower()
        closes = "close" in connection or (version == b"HTTP/1.0" and "keep-alive" not in connection)
        if method == "HEAD" or status in (204, 304) or status < 200:
            return status, b"", closes
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, self._chunked(), closes
        length = headers.get("content-length")
        if length is None:
            return status, self.reader.read(), True  # delimited by the end of the connection
        try:
            size = int(length)
        except ValueError:
            raise http.client.HTTPException(f"bad Content-Length {length!r}") from None
        body = self.reader.read(size)
        if len(body) < size:
            raise http.client.IncompleteRead(body, size - len(body))
        return status, body, closes

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self._line()
            try:
                size = int(size_line.split(b";", 1)[0], 16)
            except ValueError:
                raise http.client.HTTPException(f"bad chunk size {size_line[:40]!r}") from None
            if size == 0:
                while self._line() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            chunk = self.reader.read(size)
            if len(chunk) < size:
                raise http.client.IncompleteRead(chunk, size - len(chunk))
            parts.append(chunk)
            self.reader.read(2)  # the CRLF after the chunk

    def close(self) -> None:
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass


class KeepAlivePool:
    """Idle connections to one server, reused most recent first; safe to share between threads."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        connect_timeout: float,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> _Connection:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self.timeout)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except OSError as exc:  # ssl.SSLError is an OSError
            sock.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(sock)

    def _checkout(self) -> tuple[_Connection, bool]:
        """An idle connection that is still open, else a new one; and whether it was reused."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(), False
            if not connection.is_stale():
                return connection, True
            connection.close()

    def _checkin(self, connection: _Connection) -> None:
        with self._lock:
            self._idle.append(connection)

    def send(self, method: str, data: bytes) -> Answer:
        """Send one whole request (head and body in ``data``) and read its answer.

        An idle connection is checked before it is reused (the server may have closed it while it sat
        idle, as a keep-alive timeout or a restart does), like httpcore checks its own. Raises
        ``StaleConnection`` when a reused connection refused the request's bytes (the server had
        closed it: nothing was processed, the caller may send it again at once), else httpx's
        ``ConnectError``/``ConnectTimeout`` (nothing was sent) or another ``httpx.TransportError``
        (the request may have been processed).
        """
        connection, reused = self._checkout()
        try:
            try:
                connection.sock.sendall(data)
            except TimeoutError as exc:
                raise httpx.WriteTimeout(str(exc) or "write timed out") from exc
            except OSError as exc:
                if reused and exc.errno in _CLOSED_ERRNOS:
                    raise StaleConnection(str(exc)) from exc
                raise httpx.WriteError(str(exc) or type(exc).__name__) from exc
            try:
                status, body, closes = connection.read_answer(method)
            except http.client.RemoteDisconnected as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
            except OSError as exc:
                raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
            except http.client.HTTPException as exc:
                raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            connection.close()
            raise
        if closes:
            connection.close()
        else:
            self._checkin(connection)
        return Answer(status, body)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
