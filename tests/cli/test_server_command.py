"""``kiln server`` starts a working server from nothing but settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_server_serves_the_api_on_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KILN_HOME": str(tmp_path / "home"),
        "KILN_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
        "KILN_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kiln.cli.main", "server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "kiln server did not answer within 60 s"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        base = f"http://127.0.0.1:{port}/api/v1"
        assert httpx.post(f"{base}/experiments", json={"name": "via-server"}).status_code == 401
        account = {"email": "first@kiln.test", "password": "a long and unusual passphrase"}
        assert httpx.post(f"{base}/auth/register", json=account, timeout=10).status_code == 201
        token = httpx.post(f"{base}/auth/login", json=account, timeout=10).json()["access_token"]
        created = httpx.post(
            f"{base}/experiments", json={"name": "via-server"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0
