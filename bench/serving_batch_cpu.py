"""Kiln's CPU per 1,000-row prediction batch, source trees side by side (e.g. main against a branch).

    .bench-venv/bin/python -m bench.serving_batch_cpu --tree main=/work/main/src --tree branch=src
    .bench-venv/bin/python -m bench.serving_batch_cpu --tree ... --http   # live servers instead

Both modes use the serving benchmark's own Kiln home (bench/serving_kiln.py: a fresh home, an API
key, the breast-cancer model registered with the SDK, a private deployment, the prediction log on)
and the same body: ``--rows`` records (``{"inputs": [...]}``), as bench/serving.py sends. Each tree
runs with ``PYTHONPATH`` pointing at it, so the same venv runs each tree's code.

**In process** (the default): for each of ``--rounds`` rounds, each tree in turn gets a fresh Python
process that builds ``kiln serve``'s app (``create_serving_app``) on a copy of the home, runs its
lifespan, and drives it through ASGI directly (no HTTP, no client in the way): an untimed warm-up,
then ``--batches`` predict requests from ``--connections`` concurrent callers, then the prediction
log flushed. The process's CPU time over that (``time.process_time``: every thread, the log's
flusher included) divided by the batches is the figure; machine load stretches it least.

**Live** (``--http``): a ``kiln server`` per tree, taking turns, paused (SIGSTOP) outside theirs,
sent the batches over ``--connections`` keep-alive connections (httpx); the CPU time of the server's
process tree over the turn, until the log has written every batch. Includes uvicorn and the socket
writes, which a busy machine stretches.

Printed as ``<tree>.batch<rows>_c<connections>_cpu_ms: value ms`` lines (the median of the rounds,
and each round), then rows/s (wall: read within one run only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.serving_kiln import PREDICT_PATH, READY_PATH, KilnServing, kiln_env, kiln_serving
from bench.serving_model import dumps, train
from bench.workload import BenchFailure


def send(serving: KilnServing, body: bytes, batches: int, connections: int) -> float:
    """``batches`` posts of ``body`` over ``connections`` connections; the wall seconds they took."""
    left = [batches]
    lock = threading.Lock()
    failures: list[str] = []
    headers = {**serving.headers, "Content-Type": "application/json"}

    def worker() -> None:
        with httpx.Client(base_url=serving.server.url, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    if left[0] <= 0 or failures:
                        return
                    left[0] -= 1
                response = client.post(PREDICT_PATH, content=body)
                if response.status_code != 200:
                    failures.append(f"HTTP {response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchFailure(failures[0])
    return time.perf_counter() - started


def logged(home: Path) -> int:
    """Predictions written to the log so far (read from the server's SQLite file)."""
    path = home / "kiln.db" if (home / "kiln.db").exists() else next(home.rglob("kiln.db"))
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("select count(*) from predictions").fetchone()[0])


def settled_count(home: Path, timeout: float = 5.0) -> int:
    """The log's row count once it stops growing (the warm-up's last batches written)."""
    deadline = time.perf_counter() + timeout
    count = logged(home)
    while time.perf_counter() < deadline:
        time.sleep(0.3)
        now = logged(home)
        if now == count:
            break
        count = now
    return count


def turn(
    serving: KilnServing, home: Path, body: bytes, batches: int, connections: int, warmup: int
) -> tuple[float, float]:
    """One measured turn: (server CPU ms per batch, rows per second wall)."""
    send(serving, body, warmup, connections)
    expected = settled_count(home) + batches
    cpu = serving.server.cpu_seconds()
    wall = send(serving, body, batches, connections)
    deadline = time.perf_counter() + 5
    while logged(home) < expected and time.perf_counter() < deadline:
        time.sleep(0.02)
    cpu = serving.server.cpu_seconds() - cpu
    if logged(home) < expected:
        raise BenchFailure(f"the prediction log has {expected - logged(home)} batches missing after 5 s")
    return cpu * 1000 / batches, batches / wall


# -- in process -----------------------------------------------------------------------------------


class AsgiCaller:
    """Requests straight into an ASGI app (one body message, the answer collected)."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")]

    async def call(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        done = asyncio.Event()
        sent = [False]
        status, chunks = [0], []

        async def receive() -> dict[str, Any]:
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()

        await self.app(scope, receive, send)
        return status[0], b"".join(chunks)


async def _lifespan(app: Any, started: asyncio.Event, stop: asyncio.Event) -> None:
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        message = next(messages, None)
        if message is not None:
            return message
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()
        elif message["type"].endswith("failed"):
            raise RuntimeError(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)


async def _child(body: bytes, key: str, batches: int, connections: int, warmup: int) -> dict[str, float]:
    from kiln.app import create_serving_app

    # Every batch's log row is part of its cost and must be written: this driver sends batches
    # faster than a database takes their text, so the log's queue is not bounded by bytes here.
    os.environ["KILN_PREDICTION_LOG_QUEUE_BYTES"] = str(2**40)
    app = create_serving_app()
    started, stop = asyncio.Event(), asyncio.Event()
    lifespan = asyncio.create_task(_lifespan(app, started, stop))
    await started.wait()
    caller = AsgiCaller(app, key)
    deadline = time.perf_counter() + 120
    while (await caller.call("GET", READY_PATH))[0] != 200:
        if time.perf_counter() > deadline:
            raise BenchFailure("the deployment was not ready in 120 s")
        await asyncio.sleep(0.05)
    logger = app.state.kiln.prediction_logger

    async def post(count: int) -> None:
        for _ in range(count):
            status, answer = await caller.call("POST", PREDICT_PATH, body)
            if status != 200:
                raise BenchFailure(f"HTTP {status}: {answer[:200]!r}")

    async def run(total: int) -> None:
        share = [total // connections + (1 if i < total % connections else 0) for i in range(connections)]
        await asyncio.gather(*(post(count) for count in share))

    await run(warmup)
    logger.flush()
    written = logger.written
    threads_before = _thread_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    await run(batches)
    wall = time.perf_counter() - wall
    logger.flush()  # the batches' log rows are part of their cost
    cpu = time.process_time() - cpu
    if logger.written - written != batches:
        raise BenchFailure(f"{batches} predictions sent, {logger.written - written} logged")
    threads = {
        name: round((seconds - threads_before.get(name, 0.0)) * 1000 / batches, 3)
        for name, seconds in _thread_cpu().items()
    }
    stop.set()
    await lifespan
    result: dict[str, Any] = {"cpu_ms": cpu * 1000 / batches, "rows_per_s": batches * len_rows(body) / wall}
    return {**result, "threads_cpu_ms": {k: v for k, v in threads.items() if v >= 0.01}}


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by thread name (for the breakdown)."""
    import psutil

    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    used: dict[str, float] = {}
    for thread in psutil.Process().threads():
        name = names.get(thread.id, "other")
        used[name] = used.get(name, 0.0) + thread.user_time + thread.system_time
    return used


def len_rows(body: bytes) -> int:
    return len(json.loads(body)["inputs"])


def in_process(
    trees: dict[str, str], trained: Any, body: bytes, args: argparse.Namespace
) -> dict[str, list[tuple[float, float]]]:
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        with kiln_serving(home, trained) as serving:  # set up (and checked) by a live server
            key = serving.headers["Authorization"].removeprefix("Bearer ")
        body_file = Path(scratch) / "body.json"
        body_file.write_bytes(body)
        for round_number in range(args.rounds):
            for name, src in trees.items():
                copy = Path(scratch) / f"{name}-{round_number}"
                shutil.copytree(home, copy)
                env = kiln_env(copy)
                env["PYTHONPATH"] = str(Path(src).resolve())
                command = [sys.executable, "-m", "bench.serving_batch_cpu", "--child", str(body_file), key]
                command += ["--batches", str(args.batches), "--connections", str(args.connections)]
                command += ["--warmup", str(args.warmup)]
                done = subprocess.run(
                    command, env=env, capture_output=True, text=True, timeout=600, check=False, cwd=Path.cwd()
                )
                if done.returncode != 0:
                    raise BenchFailure(f"{name}: {done.stderr[-2000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                figures[name].append((result["cpu_ms"], result["rows_per_s"]))
                print(f"# {name} round {round_number + 1}: {json.dumps(result)}", flush=True)
                shutil.rmtree(copy, ignore_errors=True)
    return figures


# -- live servers ---------------------------------------------------------------------------------


def live(
    trees: dict[str, str], trained: Any, body: bytes, args: argparse.Namespace
) -> dict[str, list[tuple[float, float]]]:
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        servers: dict[str, tuple[KilnServing, Path]] = {}
        for name, src in trees.items():
            os.environ["PYTHONPATH"] = str(Path(src).resolve())
            home = Path(scratch) / name
            servers[name] = (stack.enter_context(kiln_serving(home, trained)), home)
            servers[name][0].server.pause()
        for _ in range(args.rounds):
            for name, (serving, home) in servers.items():
                serving.server.resume()
                try:
                    cpu, rate = turn(serving, home, body, args.batches, args.connections, args.warmup)
                    figures[name].append((cpu, rate * args.rows))
                finally:
                    serving.server.pause()
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child = argparse.ArgumentParser()
        child.add_argument("--child", dest="body_file")
        child.add_argument("key")
        child.add_argument("--batches", type=int)
        child.add_argument("--connections", type=int)
        child.add_argument("--warmup", type=int)
        c = child.parse_args()
        body = Path(c.body_file).read_bytes()
        result = asyncio.run(_child(body, c.key, c.batches, c.connections, c.warmup))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="name=path of a src folder")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--http", action="store_true", help="live kiln servers over HTTP instead")
    args = parser.parse_args()
    trees = dict(entry.split("=", 1) for entry in args.tree)
    trained = train()
    body = dumps({"inputs": trained.records(args.rows)})
    figures = (live if args.http else in_process)(trees, trained, body, args)
    label = f"batch{args.rows}_c{args.connections}_{'server_' if args.http else 'in_process_'}cpu_ms"
    for name, rounds in figures.items():
        cpu = [round(c, 2) for c, _ in rounds]
        rate = [round(r) for _, r in rounds]
        print(f"{name}.{label}: {statistics.median(cpu):.2f} ms  (rounds {cpu})")
        rows_label = f"{name}.batch{args.rows}_c{args.connections}_rows_per_s"
        print(f"{rows_label}: {statistics.median(rate):.0f} rows/s  (rounds {rate})")
    print(f"# load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
