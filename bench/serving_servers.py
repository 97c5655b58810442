"""The model servers Kiln is measured against, each started on loopback in its own temp dir.

Each runs one worker process, from its own venv (bench/run.sh makes them; their pins clash with
MLflow's or each other's):

- ``mlflow models serve --env-manager local -w 1`` (MLflow 3.17.2, the benchmark venv);
- ``bentoml serve serving_bentoml:BreastCancer`` (BentoML 1.4.39, .bench-venv-bentoml), ``workers=1``;
- ``mlserver start`` with the scikit-learn runtime (MLServer 1.7.1, .bench-venv-mlserver), at its
  default ``parallel_workers`` (1: inference runs in one worker process beside the HTTP process),
  and with ``parallel_workers=0`` (inference in the HTTP process);
- the ceiling: the bare ASGI app of bench/serving_ceiling.py under uvicorn (the benchmark venv).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench.servers import BIN, Server, bench_env, free_port
from bench.serving_model import MODEL_NAME

ROOT = Path(__file__).resolve().parent.parent
BENTOML_VENV = Path(os.environ.get("BENCH_BENTOML_VENV") or ROOT / ".bench-venv-bentoml")
MLSERVER_VENV = Path(os.environ.get("BENCH_MLSERVER_VENV") or ROOT / ".bench-venv-mlserver")

Served = AbstractContextManager[tuple[Server, float]]


def venv_env(venv_bin: Path, **extra: str) -> dict[str, str]:
    """``bench_env`` with another venv's bin first on PATH (servers that exec their own tools)."""
    env = bench_env(**extra)
    env["PATH"] = f"{venv_bin}{os.pathsep}{env['PATH']}"
    env.pop("VIRTUAL_ENV", None)
    return env


@contextmanager
def running(
    name: str,
    command: list[str],
    health_path: str,
    home: Path,
    env: dict[str, str],
    *,
    port: int,
    cwd: Path | None = None,
    health_timeout: float = 120.0,
    health_headers: dict[str, str] | None = None,
) -> Iterator[tuple[Server, float]]:
    """Start ``command``; yield the server with its seconds from start to the first 200 at ``health_path``."""
    home.mkdir(parents=True, exist_ok=True)
    server = Server(
        name=name,
        command=command,
        url=f"http://127.0.0.1:{port}",
        health_path=health_path,
        log_path=home / "server.log",
        health_headers=health_headers or {},
    )
    try:
        server.start(env, cwd or home)
        yield server, server.wait_healthy(health_timeout)
    finally:
        server.stop()


def mlflow_serve(home: Path, model_dir: Path) -> Served:
    port = free_port()
    command = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model_dir),
        "--env-manager",
        "local",
        "-w",
        "1",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    return running("mlflow", command, "/health", home, bench_env(), port=port)


def bentoml_serve(home: Path, model_path: Path) -> Served:
    port = free_port()
    venv_bin = BENTOML_VENV / "bin"
    command = [
        str(venv_bin / "bentoml"),
        "serve",
        "serving_bentoml:BreastCancer",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = venv_env(
        venv_bin,
        BENCH_MODEL_PATH=str(model_path),
        BENTOML_HOME=str(home / "bentoml"),
        BENTOML_DO_NOT_TRACK="True",
    )
    bench_dir = Path(__file__).resolve().parent
    return running("bentoml", command, "/readyz", home, env, port=port, cwd=bench_dir)


def mlserver_serve(
    home: Path, model_path: Path, *, name: str = "mlserver", parallel_workers: int | None = None
) -> Served:
    """MLServer on a model folder of its own: settings.json, model-settings.json and model.joblib."""
    folder = home / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.joblib").write_bytes(model_path.read_bytes())
    port = free_port()
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
    }
    if parallel_workers is not None:
        settings["parallel_workers"] = parallel_workers
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (folder / "model-settings.json").write_text(json.dumps(model_settings))
    venv_bin = MLSERVER_VENV / "bin"
    command = [str(venv_bin / "mlserver"), "start", str(folder)]
    health = f"/v2/models/{MODEL_NAME}/ready"
    return running(name, command, health, home, venv_env(venv_bin), port=port, cwd=folder)


def ceiling_serve(home: Path) -> Served:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.serving_ceiling:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return running("ceiling", command, "/", home, bench_env(), port=port, cwd=ROOT)
