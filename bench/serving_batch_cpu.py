"""Server CPU per 1,000-row prediction batch, source trees side by side (e.g. main against a branch).

    .bench-venv/bin/python -m bench.serving_batch_cpu --tree main=/work/main/src --tree branch=src

Each tree gets the serving benchmark's own Kiln (bench/serving_kiln.py: a fresh home, an API key, the
breast-cancer model registered with the SDK, a private deployment, the prediction log on) started
with ``PYTHONPATH`` pointing at that tree, so the same venv runs each tree's code. The servers take
turns, paused (SIGSTOP) outside theirs: in each of ``--rounds`` rounds every server gets an untimed
warm-up, then ``--batches`` records bodies of ``--rows`` rows (``{"inputs": [...]}``, as
bench/serving.py sends) over ``--connections`` keep-alive connections, and the CPU time of its whole
process tree over the turn (the prediction log's flusher included: the turn ends once the log has
written every batch, or after 5 s) is divided by the batches. CPU time is what a busy shared machine
stretches least; rows/s (wall) is printed too, to be read within one run only.

Printed as ``<tree>.batch<rows>_c<connections>_server_cpu_ms: value ms`` lines (the median of the
rounds, and each round), then the rows/s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.serving_kiln import PREDICT_PATH, KilnServing, kiln_serving
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="name=path of a src folder")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = dict(entry.split("=", 1) for entry in args.tree)
    trained = train()
    body = dumps({"inputs": trained.records(args.rows)})
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
                    figures[name].append(turn(serving, home, body, args.batches, args.connections, args.warmup))
                finally:
                    serving.server.pause()
    label = f"batch{args.rows}_c{args.connections}"
    for name, rounds in figures.items():
        cpu = [round(c, 2) for c, _ in rounds]
        rate = [round(r * args.rows) for _, r in rounds]
        print(f"{name}.{label}_server_cpu_ms: {statistics.median(cpu):.2f} ms  (rounds {cpu})")
        print(f"{name}.{label}_rows_per_s: {statistics.median(rate):.0f} rows/s  (rounds {rate})")
    print(f"# load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
