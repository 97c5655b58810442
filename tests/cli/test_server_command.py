"""``kiln server`` starts a working server from nothing but settings."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerLog:
    """The server's output, read line by line as it comes (a thread drains the pipe)."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        for raw in iter(self._stream.readline, b""):  # type: ignore[attr-defined]
            self.lines.append(raw.decode(errors="replace"))

    def event(self, name: str, timeout: float = 20) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if f'"{name}"' in line:
                    found: dict[str, object] = json.loads(line)
                    return found
            time.sleep(0.05)
        raise AssertionError(f"no {name} in the server log:\n{''.join(self.lines)}")


@contextmanager
def running_server(
    tmp_path: Path, *args: str, command: str = "server", **env: str
) -> Iterator[tuple[str, ServerLog]]:
    """``kiln server`` (or ``command``: ``serve``) in a subprocess on a free port, until the block ends."""
    port = free_port()
    environment = {
        **os.environ,
        "KILN_HOME": str(tmp_path / "home"),
        "KILN_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
        "KILN_LOG_LEVEL": "WARNING",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kiln.cli.main", command, "--port", str(port), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    log = ServerLog(process.stdout)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "".join(log.lines)
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"kiln {command} did not answer within 60 s"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_server_serves_the_api_on_the_given_port(tmp_path: Path) -> None:
    with running_server(tmp_path) as (url, log):
        base = f"{url}/api/v1"
        assert httpx.post(f"{base}/experiments", json={"name": "via-server"}).status_code == 401
        account = {"email": "first@kiln.test", "password": "a long and unusual passphrase"}
        # A fresh install: the first account needs the setup token the server printed at start.
        refused = httpx.post(f"{base}/auth/register", json=account, timeout=10)
        assert refused.status_code == 403
        assert "setup token" in refused.json()["error"]["message"]
        announced = log.event("auth.setup_token")
        assert str(announced["register_url"]).endswith(f"/register?setup={announced['setup_token']}")
        first = account | {"setup_token": str(announced["setup_token"])}
        assert httpx.post(f"{base}/auth/register", json=first, timeout=10).status_code == 201
        token = httpx.post(f"{base}/auth/login", json=account, timeout=10).json()["access_token"]
        created = httpx.post(
            f"{base}/experiments", json={"name": "via-server"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--forwarded-allow-ips", "10.9.9.9"], {}), ([], {"KILN_FORWARDED_ALLOW_IPS": "10.9.9.9"})],
    ids=["option", "setting"],
)
def test_forwarded_headers_count_only_from_the_proxies_it_is_told_to_trust(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    # uvicorn trusts loopback by default; told to trust only another address, the forwarded
    # client address of a request from loopback is ignored, so the per-address login limit
    # counts every such request as one client.
    with running_server(tmp_path, *args, KILN_LOGIN_RATE_LIMIT="2/minute", **env) as (url, _log):
        statuses = [
            httpx.post(
                f"{url}/api/v1/auth/login",
                json={"email": f"nobody{i}@kiln.test", "password": "wrong password here"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
                timeout=10,
            ).status_code
            for i in range(3)
        ]
        assert statuses == [401, 401, 429]
