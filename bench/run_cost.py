"""What one run of (c) costs, on each side of the wire: client CPU and server CPU per run.

(c) creates runs through the SDK: ``create_run``, a one-metric one-param ``log_batch``, and
``update_run(status="finished")``, three requests a run. Wall time on a shared machine is noisy;
CPU time is not, so this prints both halves of a run's cost as CPU milliseconds:

- ``client_cpu_ms_per_run``: ``time.process_time`` of this process over the loop (the SDK's own work);
- ``server_cpu_ms_per_run``: CPU of the server's process tree over the loop, idle use subtracted.

Run it once per checkout to compare two versions side by side (the server runs the code on
``PYTHONPATH``, like the client)::

    PYTHONPATH=/path/to/other/src python -m bench.run_cost --runs 300
    PYTHONPATH=$PWD/src python -m bench.run_cost --runs 300

``--profile-client FILE`` writes a cProfile of the client's loop.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.kiln_login import Identity
from bench.per_request import idle_cpu_cores
from bench.servers import QUIET_ENV, kiln_server
from bench.workload import SEARCH_METRIC, run_score

os.environ.update(QUIET_ENV)

import kiln


def create_runs(client: kiln.Client, experiment_id: str, runs: int, *, offset: int = 0) -> None:
    """(c)'s loop, exactly as ``bench.kiln_workloads.runs_and_search`` runs it."""
    now = int(time.time() * 1000)
    for index in range(offset, offset + runs):
        run_id = client.create_run(experiment_id).id
        client.log_batch(
            run_id,
            metrics=[{"key": SEARCH_METRIC, "value": run_score(index), "step": 0, "timestamp": now}],
            params=[{"key": "seed", "value": str(index)}],
        )
        client.update_run(run_id, status="finished")


def _py_spy(pid: int, out: Path | None) -> subprocess.Popen[bytes] | None:
    if out is None:
        return None
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "400", "--gil"]
    spy = subprocess.Popen([*command, "-f", "raw", "-o", str(out)], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the loop starts
    return spy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--profile-client", type=Path, default=None)
    parser.add_argument(
        "--py-spy-server",
        type=Path,
        default=None,
        help="record the server with py-spy (samples that hold the GIL, collapsed stacks)",
    )
    args = parser.parse_args(argv)
    print(f"kiln from {Path(kiln.__file__).parent}")
    print(f"machine.load_avg_1m_before: {os.getloadavg()[0]:.2f} load")
    with (
        tempfile.TemporaryDirectory(prefix="kiln-run-cost-") as tmp,
        kiln_server(Path(tmp) / "kiln") as (
            server,
            _healthy,
        ),
    ):
        identity = Identity(server.url, setup_token=server.setup_token())
        token = identity.token()
        with kiln.Client(server.url, token=token) as client:
            experiment_id = client.create_experiment("run-cost").id
            create_runs(client, experiment_id, args.warm_up)
            idle = idle_cpu_cores(server)
            spy = _py_spy(server.process.pid if server.process else 0, args.py_spy_server)
            profile = cProfile.Profile(time.process_time) if args.profile_client else None
            server_before = server.cpu_seconds()
            client_before = time.process_time()
            started = time.perf_counter()
            if profile is not None:
                profile.enable()
            create_runs(client, experiment_id, args.runs, offset=args.warm_up)
            if profile is not None:
                profile.disable()
            wall = time.perf_counter() - started
            client_cpu = time.process_time() - client_before
            server_cpu = server.cpu_seconds() - server_before - idle * wall
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
        if profile is not None:
            profile.dump_stats(args.profile_client)
    print(f"runs: {args.runs}")
    print(f"wall_ms_per_run: {wall / args.runs * 1000:.2f} ms")
    print(f"runs_per_s: {args.runs / wall:.1f} runs/s")
    print(f"client_cpu_ms_per_run: {client_cpu / args.runs * 1000:.2f} ms")
    print(f"server_cpu_ms_per_run: {max(0.0, server_cpu) / args.runs * 1000:.2f} ms")
    print(f"machine.load_avg_1m_after: {os.getloadavg()[0]:.2f} load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
