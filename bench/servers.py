"""Start, watch and stop the servers under test: Kiln, MLflow and FastTrackML, each on loopback in its
own temp dir.

Each server runs in its own process group (its own session), so stopping it reaches every worker it
spawned; the memory figure is the RSS of the whole process tree, because MLflow serves with several
worker processes and a job runner, and a fair comparison counts all of them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

BIN = Path(sys.executable).parent

# Keep every process of the benchmark on loopback: MLflow 3 sends usage telemetry unless told not to.
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "120",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
}


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for a server: this venv's bin first on PATH (MLflow execs ``uvicorn`` from PATH)."""
    env = dict(os.environ)
    # A server on an installed system reads and writes bytecode; this setting would make each start recompile.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(QUIET_ENV)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Settled:
    waited_s: float
    cpu_cores: float  # CPU use of the whole tree in the last window, in cores (1.0 = one core busy)
    settled: bool


@dataclass
class Server:
    name: str
    command: list[str]
    url: str
    health_path: str
    log_path: Path
    health_headers: dict[str, str] = field(default_factory=dict)  # e.g. an API key for a private route
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    startup_cpu_s: float = 0.0
    # pid -> create time: a pid is killed at the end only if it is still the very process we saw.
    seen: dict[int, float] = field(default_factory=dict)

    def start(self, env: dict[str, str], cwd: Path) -> None:
        log = self.log_path.open("wb")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            self.command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def setup_token(self) -> str | None:
        """The one-time setup token a fresh Kiln prints to its log (``auth.setup_token``)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return None
        for line in lines:
            if '"auth.setup_token"' in line:
                token = json.loads(line).get("setup_token")
                return str(token) if token else None
        return None

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's output, for error messages (the temp dir is gone afterwards)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_healthy(self, timeout: float) -> float:
        """Seconds from process start to the first 200 from the health endpoint.

        Also keeps ``startup_cpu_s``, the CPU time the tree had used by then: on a busy machine the
        wall time stretches with other processes' load, the CPU time much less.
        """
        assert self.process is not None
        deadline = self.started_at + timeout
        with httpx.Client(timeout=2.0, headers=self.health_headers) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(self.url + self.health_path).status_code == 200:
                        healthy = time.perf_counter() - self.started_at
                        self.startup_cpu_s = self.cpu_seconds()
                        return healthy
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        raise TimeoutError(f"{self.name} not healthy within {timeout:.0f} s:\n{self.log_tail()}")

    def tree(self) -> list[psutil.Process]:
        assert self.process is not None
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for process in processes:
            with suppress(psutil.Error):
                self.seen.setdefault(process.pid, process.create_time())
        return processes

    def rss_bytes(self) -> int:
        total = 0
        for process in self.tree():
            with suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.tree():
            try:
                times = process.cpu_times()
                # children_*: processes it spawned and already reaped (a live child is counted itself).
                total += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                pass
        return total

    def wait_settled(self, timeout: float, *, window: float = 2.0) -> Settled:
        """Wait until start-up is over: the same processes for three windows and a steady CPU use.

        MLflow answers /health from its first worker while the others are still importing, and its
        job runner starts its queue consumers later still; memory is read only once all that is
        done. "Steady" rather than "zero": MLflow's queue consumers poll SQLite forever.
        """
        began = time.perf_counter()
        pids = {p.pid for p in self.tree()}
        previous_cpu = self.cpu_seconds()
        previous_use: float | None = None
        stable = 0
        use = 0.0
        while time.perf_counter() - began < timeout:
            time.sleep(window)
            current_pids = {p.pid for p in self.tree()}
            current_cpu = self.cpu_seconds()
            use = (current_cpu - previous_cpu) / window
            steady = previous_use is not None and abs(use - previous_use) <= max(0.03, 0.25 * previous_use)
            stable = stable + 1 if current_pids == pids and steady else 0
            pids, previous_cpu, previous_use = current_pids, current_cpu, use
            if stable >= 3:
                return Settled(time.perf_counter() - began, use, settled=True)
        return Settled(time.perf_counter() - began, use, settled=False)

    def pause(self) -> None:
        """Stop every process of the tree (SIGSTOP), so its idle work cannot compete with others' turns."""
        for process in self.tree():
            with suppress(psutil.Error):
                process.suspend()

    def resume(self) -> None:
        for process in self.tree():
            with suppress(psutil.Error):
                process.resume()

    def stop(self, grace: float = 15.0) -> None:
        if self.process is None:
            return
        self.resume()  # a stopped process would not act on SIGTERM
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        # Whatever ignored SIGTERM (or was re-parented) is killed by pid: only processes this server spawned.
        for pid, created in self.seen.items():
            with suppress(psutil.Error):
                process = psutil.Process(pid)
                if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                    process.kill()
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=5)


def kiln_command(port: int) -> list[str]:
    """``kiln server`` when the CLI has it, else the app factory under uvicorn (same app, same defaults)."""
    cli = BIN / "kiln"
    if cli.exists():
        probe = subprocess.run(
            [str(cli), "server", "--help"], capture_output=True, timeout=60, env=bench_env(), check=False
        )
        if probe.returncode == 0:
            return [str(cli), "server", "--host", "127.0.0.1", "--port", str(port)]
    return uvicorn_command(port)


def uvicorn_command(port: int) -> list[str]:
    """Kiln's app factory under ``python -m uvicorn`` (the same app and in-process worker)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "kiln.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


@contextmanager
def kiln_server(
    home: Path, *, health_timeout: float = 60.0, module: bool = False, **extra: str
) -> Iterator[tuple[Server, float]]:
    """A Kiln server on SQLite in ``home``; yields it with its seconds-to-healthy.

    ``extra`` adds environment variables (``KILN_PIPELINE_EXECUTOR=tcp://...``, ``PYTHONPATH``).
    ``module``: the app factory under ``python -m uvicorn`` rather than the ``kiln`` script.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = Server(
        name="kiln",
        command=uvicorn_command(port) if module else kiln_command(port),
        url=f"http://127.0.0.1:{port}",
        health_path="/healthz",
        log_path=home / "server.log",
    )
    # The benchmark measures throughput, not the per-identity API rate limit (default 1200/minute,
    # which (c)'s 3,000 requests in seconds would hit): it is raised for the benchmark server.
    env = bench_env(KILN_HOME=str(home), KILN_RATE_LIMIT="1000000/minute")
    env.pop("KILN_DATABASE_URL", None)
    env.pop("KILN_ARTIFACT_ROOT", None)
    env.update(extra)
    try:
        server.start(env, home)
        yield server, server.wait_healthy(health_timeout)
    finally:
        server.stop()


@contextmanager
def mlflow_server(
    home: Path, *, name: str = "mlflow", health_timeout: float = 240.0, **env: str
) -> Iterator[tuple[Server, float]]:
    """An MLflow tracking server on SQLite in ``home``, by default with its default settings.

    The defaults are 4 uvicorn workers plus a job runner with its Huey queue consumers; ``env``
    adds variables (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"`` turns the job runner off).
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = Server(
        name=name,
        command=[
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--default-artifact-root",
            str(home / "mlruns"),
        ],
        url=f"http://127.0.0.1:{port}",
        health_path="/health",
        log_path=home / "server.log",
    )
    try:
        server.start(bench_env(**env), home)
        yield server, server.wait_healthy(health_timeout)
    finally:
        server.stop()


# FastTrackML's pip package pins an MLflow 2 that clashes with the MLflow 3 client, so bench/run.sh puts
# it in its own venv; only its static Go binary is used.
FASTTRACKML_ENV = "BENCH_FASTTRACKML"
FASTTRACKML_DEFAULT = Path(__file__).resolve().parent.parent / ".bench-venv-fasttrackml" / "bin" / "fml"


def fasttrackml_binary() -> Path:
    binary = Path(os.environ.get(FASTTRACKML_ENV) or FASTTRACKML_DEFAULT)
    if not binary.is_file():
        raise FileNotFoundError(
            f"FastTrackML's fml binary not found at {binary}: run through bench/run.sh, "
            f"or point {FASTTRACKML_ENV} at it"
        )
    return binary


@contextmanager
def fasttrackml_server(home: Path, *, health_timeout: float = 60.0) -> Iterator[tuple[Server, float]]:
    """A FastTrackML server (a Go implementation of MLflow's REST API) on SQLite in ``home``.

    Its defaults otherwise: it runs its own schema migrations at start, no authentication.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = Server(
        name="fasttrackml",
        command=[
            str(fasttrackml_binary()),
            "server",
            "--listen-address",
            f"127.0.0.1:{port}",
            "--database-uri",
            f"sqlite://{home / 'fasttrackml.db'}",
            "--default-artifact-root",
            str(home / "artifacts"),
        ],
        url=f"http://127.0.0.1:{port}",
        health_path="/health",
        log_path=home / "server.log",
    )
    try:
        server.start(bench_env(), home)
        yield server, server.wait_healthy(health_timeout)
    finally:
        server.stop()
