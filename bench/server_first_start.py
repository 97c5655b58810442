"""A first start of ``kiln server`` on a fresh home: seconds to ``/healthz`` 200 and CPU seconds by then.

    .bench-venv/bin/python -m bench.server_first_start [--starts 5] KILN [KILN ...]

Each ``KILN`` is a ``kiln`` executable (e.g. two checkouts' ``.venv/bin/kiln``, to compare a change
with ``main``); they start in turns, each on a new empty ``KILN_HOME`` (embedded SQLite), after one
unmeasured start each to warm bytecode and the page cache. Prints the median of the starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import httpx
import psutil

from bench.servers import free_port


def first_start(kiln: str) -> tuple[float, float]:
    """Seconds from ``Popen`` to ``/healthz`` 200, and the CPU seconds of the process tree by then."""
    with tempfile.TemporaryDirectory(prefix="kiln-first-start-") as home:
        port = free_port()
        env = {**os.environ, "KILN_HOME": home}
        env.pop("KILN_DATABASE_URL", None)
        started = time.perf_counter()
        server = subprocess.Popen(
            [kiln, "server", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        process = psutil.Process(server.pid)
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
            healthy_s = time.perf_counter() - started
            tree = [process, *process.children(recursive=True)]
            cpu_s = sum(part.cpu_times().user + part.cpu_times().system for part in tree)
        finally:
            server.terminate()
            server.wait(30)
    return healthy_s, cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("kilns", nargs="+")
    arguments = parser.parse_args()
    for kiln in arguments.kilns:
        first_start(kiln)
    figures: dict[str, list[tuple[float, float]]] = {kiln: [] for kiln in arguments.kilns}
    for _ in range(arguments.starts):
        for kiln in arguments.kilns:
            figures[kiln].append(first_start(kiln))
            healthy_s, cpu_s = figures[kiln][-1]
            load = os.getloadavg()[0]
            print(f"# {kiln}: {healthy_s:.2f} s, {cpu_s:.2f} CPU s, load {load:.1f}", flush=True)
    for kiln, starts in figures.items():
        print(f"{kiln}.healthy_after_start_s: {statistics.median(s for s, _ in starts):.2f} s")
        print(f"{kiln}.startup_cpu_s: {statistics.median(c for _, c in starts):.2f} s")


if __name__ == "__main__":
    main()
