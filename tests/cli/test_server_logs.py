"""Every line ``kiln server`` writes to a non-terminal is a JSON object, uvicorn's own lines included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_server_command import free_port


def test_start_up_requests_and_shutdown_are_all_json_lines(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KILN_HOME": str(tmp_path / "home"),
        "KILN_LOG_LEVEL": "INFO",
        "KILN_LOG_JSON": "auto",  # the default: JSON because the output is a pipe, not a terminal
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kiln.cli.main", "server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "kiln server did not answer within 60 s"
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    lines = [line for line in output.splitlines() if line.strip()]
    events = []
    for line in lines:
        try:
            events.append(json.loads(line)["event"])
        except (ValueError, KeyError):
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    # uvicorn's start-up and shutdown announcements come through the same structured logging.
    assert any("Started server process" in event for event in events), events
    assert any("Application startup complete" in event for event in events), events
    assert any("Shutting down" in event or "Finished server process" in event for event in events), events
    assert "http.request" in events
