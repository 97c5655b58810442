"""Start-up and idle memory of Kiln's serving processes: ``kiln server`` and ``kiln serve``.

    .bench-venv/bin/python -m bench.serving_startup [--starts 3]

One home, set up once as the serving benchmark sets it up (``bench.serving_kiln``: account, API key,
the breast-cancer model registered and deployed privately). Then each command is started
``--starts`` times, in turns, on that home: seconds from ``Popen`` to the deployment answering
``GET .../ready`` with 200 (model loaded, verified, warmed up), CPU seconds by then, and RSS after
20 one-row predictions once CPU use has settled. Figures print as ``name: value unit``, the median
of the starts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import httpx

from bench import serving_model as sm
from bench.servers import BIN, free_port, kiln_command
from bench.serving_kiln import PREDICT_PATH, READY_PATH, kiln_env, set_up
from bench.serving_measure import MB
from bench.serving_servers import running

COMMANDS = ("server", "serve")


def command(which: str, port: int) -> list[str]:
    if which == "server":
        return kiln_command(port)
    return [str(BIN / "kiln"), "serve", "--host", "127.0.0.1", "--port", str(port)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    starts = parser.parse_args().starts
    trained = sm.train()
    record = {"inputs": trained.records(1)}
    with tempfile.TemporaryDirectory(prefix="kiln-startup-") as tmp:
        home = Path(tmp)
        env = kiln_env(home)
        port = free_port()
        setup = running("kiln-setup", kiln_command(port), "/healthz", home / "setup", env, port=port)
        with setup as (first, _):
            headers = {"Authorization": f"Bearer {set_up(first, trained)}"}
        figures: dict[str, dict[str, list[float]]] = {
            which: {"healthy_s": [], "cpu_s": [], "rss_mb": []} for which in COMMANDS
        }
        for start in range(starts):
            for which in COMMANDS:
                port = free_port()
                with running(
                    f"kiln-{which}",
                    command(which, port),
                    READY_PATH,
                    home / f"{which}-{start}",
                    env,
                    port=port,
                    health_headers=headers,
                ) as (server, healthy_s):
                    cpu_s = server.cpu_seconds()
                    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
                        for _ in range(20):
                            http.post(PREDICT_PATH, json=record).raise_for_status()
                    server.wait_settled(20, window=1.0)
                    figures[which]["healthy_s"].append(healthy_s)
                    figures[which]["cpu_s"].append(cpu_s)
                    figures[which]["rss_mb"].append(server.rss_bytes() / MB)
    for which, values in figures.items():
        name = f"kiln_{which}"
        print(f"{name}.healthy_after_start_s: {statistics.median(values['healthy_s']):.2f} s", flush=True)
        print(f"{name}.startup_cpu_s: {statistics.median(values['cpu_s']):.2f} s")
        print(f"{name}.idle_rss_mb: {statistics.median(values['rss_mb']):.1f} MB")
        shown = ", ".join(f"{value:.2f}" for value in values["healthy_s"])
        print(f"# {name}: healthy after {shown} s; RSS {', '.join(f'{v:.0f}' for v in values['rss_mb'])} MB")


if __name__ == "__main__":
    main()
