"""Drive ``bench/pipelines_prefect.py`` in Prefect's own venv: its server, its subprocesses, their JSON.

``BENCH_PREFECT_VENV`` names the venv (``bench/run.sh pipelines`` makes it: Prefect 3.8.8 with
``fastapi<0.155`` and prefect-dask). A standing ``prefect server start`` on loopback serves the warm
figures and a fresh process's first run against a running server; the ephemeral mode (no server:
the process starts Prefect's temporary one itself) is the first run a user without a server sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.servers import Server, bench_env, free_port

SCRIPT = Path(__file__).resolve().parent / "pipelines_prefect.py"


def venv() -> Path | None:
    found = os.environ.get("BENCH_PREFECT_VENV")
    return Path(found) if found and (Path(found) / "bin" / "python").exists() else None


def _env(home: Path, api_url: str | None) -> dict[str, str]:
    env = bench_env(
        PREFECT_HOME=str(home),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    env.pop("PREFECT_API_URL", None)
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


@contextmanager
def prefect_server(home: Path, prefect_venv: Path) -> Iterator[tuple[Server, float]]:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = Server(
        name="prefect",
        command=[
            str(prefect_venv / "bin" / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        url=f"http://127.0.0.1:{port}",
        health_path="/api/health",
        log_path=home / "server.log",
    )
    try:
        server.start(_env(home, None), home)
        yield server, server.wait_healthy(240)
    finally:
        server.stop()


def run(
    prefect_venv: Path, home: Path, api_url: str | None, *args: str, timeout: float = 900
) -> tuple[dict[str, Any], float]:
    """One fresh process of the Prefect script: (its JSON answer, its wall seconds from launch to exit)."""
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        [str(prefect_venv / "bin" / "python"), str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=_env(home, api_url),
        cwd=home,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall
