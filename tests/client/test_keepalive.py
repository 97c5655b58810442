"""The SDK's kept-alive connections: reused while the server keeps them, replaced when it closes
them or restarts, with the same retry rules and error classes as every other request.

The stand-in is a plain stdlib HTTP/1.1 server that keeps connections alive (as uvicorn does) and
can close its open connections without saying so (as a server's keep-alive timeout does).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import kiln
from kiln.client.transport import Transport

# An answer: (status, body); body None closes the connection without answering.
Answer = tuple[int, dict[str, object] | str | None]


class KeepAliveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.answers: list[Answer] = []
        self.seen: list[str] = []
        self.client_ports: list[int] = []
        self.open_sockets: list[socket.socket] = []

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        self.open_sockets.append(request)
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def drop_connections(self) -> None:
        """Close every open connection, as a server's keep-alive timeout closes idle ones."""
        for sock in self.open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.open_sockets.clear()

    def stop(self) -> None:
        """Stop as a restarting server does: the listener and every open connection go away."""
        self.shutdown()
        self.server_close()
        self.drop_connections()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    server: KeepAliveServer

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.server.seen.append(f"{self.command} {self.path}")
        self.server.client_ports.append(self.client_address[1])
        status, body = self.server.answers.pop(0) if self.server.answers else (200, {})
        if body is None:
            self.close_connection = True
            return
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


def _serve(server: KeepAliveServer) -> KeepAliveServer:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    running = _serve(KeepAliveServer())
    yield running
    running.stop()


def transport(server: KeepAliveServer, scheme: str = "http", host: str = "127.0.0.1") -> Transport:
    return Transport(f"{scheme}://{host}:{server.server_address[1]}", backoff=0.01)


class TestConnectionReuse:
    def test_requests_share_one_connection(self, server: KeepAliveServer) -> None:
        client = transport(server)
        for _ in range(3):
            client.request("POST", "/runs", json_body={"experiment_id": "e"})
        assert len(set(server.client_ports)) == 1

    def test_a_connection_the_server_closed_is_replaced_and_a_post_is_stored_once(
        self, server: KeepAliveServer
    ) -> None:
        server.answers = [(200, {}), (201, {"id": "r1"})]
        client = transport(server)
        client.request("GET", "/experiments")
        server.drop_connections()
        assert client.request("POST", "/runs", json_body={"experiment_id": "e"}) == {"id": "r1"}
        assert server.seen == ["GET /api/v1/experiments", "POST /api/v1/runs"]
        assert len(set(server.client_ports)) == 2

    def test_requests_go_on_after_the_server_restarts(self, server: KeepAliveServer) -> None:
        client = transport(server)
        client.request("GET", "/experiments")
        port = server.server_address[1]
        server.stop()
        restarted = _serve(KeepAliveServer(port))
        try:
            restarted.answers = [(201, {"id": "r2"})]
            assert client.request("POST", "/runs", json_body={"experiment_id": "e"}) == {"id": "r2"}
            assert restarted.seen == ["POST /api/v1/runs"]
        finally:
            restarted.stop()


class TestRetries:
    def test_a_post_whose_answer_was_lost_is_not_sent_twice(self, server: KeepAliveServer) -> None:
        server.answers = [(200, None), (201, {"id": "twice"})]
        with pytest.raises(kiln.ServerUnreachable):
            transport(server).request("POST", "/runs/r/batch", json_body={"metrics": []})
        assert server.seen == ["POST /api/v1/runs/r/batch"]

    def test_a_get_whose_answer_was_lost_is_sent_again(self, server: KeepAliveServer) -> None:
        server.answers = [(200, None), (200, {"id": "r"})]
        assert transport(server).request("GET", "/runs/r") == {"id": "r"}
        assert server.seen == ["GET /api/v1/runs/r"] * 2

    def test_a_gateway_answer_to_a_post_is_retried(self, server: KeepAliveServer) -> None:
        server.answers = [(503, {}), (201, {"id": "r"})]
        assert transport(server).request("POST", "/runs", json_body={}) == {"id": "r"}
        assert server.seen == ["POST /api/v1/runs"] * 2

    def test_a_server_that_is_gone_raises_server_unreachable_naming_it(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = Transport(f"http://127.0.0.1:{port}", retries=1, backoff=0.01)
        with pytest.raises(kiln.ServerUnreachable, match=f"127.0.0.1:{port}"):
            client.request("POST", "/runs", json_body={})


class TestAnswers:
    def test_error_bodies_arrive_as_their_classes(self, server: KeepAliveServer) -> None:
        missing = {"error": {"code": "not_found", "message": "run 'x' not found", "details": {}}}
        ended = {"error": {"code": "invalid_state", "message": "run 'x' is finished", "details": {}}}
        server.answers = [(404, missing), (409, ended)]
        client = transport(server)
        with pytest.raises(kiln.NotFound, match="run 'x' not found"):
            client.request("GET", "/runs/x")
        with pytest.raises(kiln.InvalidState, match="is finished"):
            client.request("PATCH", "/runs/x", json_body={"status": "finished"})

    def test_a_plain_text_error_keeps_its_text(self, server: KeepAliveServer) -> None:
        server.answers = [(500, "upstream exploded")]
        with pytest.raises(kiln.KilnError, match="upstream exploded"):
            transport(server).request("GET", "/runs")

    def test_query_parameters_are_encoded_like_httpx(self, server: KeepAliveServer) -> None:
        params = {"experiment_id": ["a", "b c"], "limit": 5, "filter": None, "desc": True}
        transport(server).request("GET", "/runs", params=params)
        assert server.seen == ["GET /api/v1/runs?experiment_id=a&experiment_id=b+c&limit=5&desc=true"]

    def test_identity_headers_are_sent(
        self, server: KeepAliveServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seen: list[dict[str, str]] = []
        original = _Handler._answer

        def record(handler: _Handler) -> None:
            seen.append({key.lower(): value for key, value in handler.headers.items()})
            original(handler)

        monkeypatch.setattr(_Handler, "do_POST", record)
        Transport(f"http://127.0.0.1:{server.server_address[1]}", token="t0k").request(
            "POST", "/runs", json_body={"experiment_id": "e"}
        )
        assert seen[0]["authorization"] == "Bearer t0k"
        assert seen[0]["user-agent"] == f"kiln-python/{kiln.__version__}"
        assert seen[0]["content-type"] == "application/json"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for localhost that is its own CA (PEM files: certificate, key)."""
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class TestHttps:
    def test_requests_and_downloads_work_over_https_with_the_trusted_certificates(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cert, key = _self_signed(tmp_path)
        secure = KeepAliveServer()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        secure.socket = context.wrap_socket(secure.socket, server_side=True)
        _serve(secure)
        try:
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted as httpx trusts it
            secure.answers = [(201, {"id": "r"}), (201, {"id": "again"}), (200, {"streamed": True})]
            client = transport(secure, scheme="https", host="localhost")
            assert client.request("POST", "/runs", json_body={}) == {"id": "r"}
            assert client.request("POST", "/runs", json_body={}) == {"id": "again"}
            with client.stream("GET", "/runs/r/artifacts/model.bin") as response:
                assert json.loads(response.read()) == {"streamed": True}
            assert len(set(secure.client_ports[:2])) == 1
        finally:
            secure.stop()

    def test_an_untrusted_certificate_is_refused(self, tmp_path: Path) -> None:
        cert, key = _self_signed(tmp_path)
        secure = KeepAliveServer()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        secure.socket = context.wrap_socket(secure.socket, server_side=True)
        _serve(secure)
        try:
            client = Transport(f"https://localhost:{secure.server_address[1]}", retries=0)
            with pytest.raises(kiln.ServerUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
                client.request("GET", "/runs")
            assert secure.seen == []
        finally:
            secure.stop()
