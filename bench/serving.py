"""Kiln's model serving against MLflow, BentoML and MLServer, and a bare uvicorn ceiling, in one run.

Same model everywhere (a scaled LogisticRegression on breast_cancer, trained once here), same load
generator (wrk, one thread, a fixed body), one worker process per server, on loopback. The servers
start one at a time and stay up, each paused (SIGSTOP) outside its turns; the timed runs go round
all servers run by run, so a change in the machine's load hits each alike. For each: one-row
throughput and p50/p99 at 16 connections, p99 at one connection, 1,000-row batches at 4
connections, start-to-healthy seconds and idle RSS after warm-up. Kiln runs a private deployment
called with an API key, prediction logging on; its Open Inference Protocol route is measured too
when this checkout has it (a 404 skips it with a note). Then py-spy profiles Kiln's predict path
under load. Figures print as ``name: value unit``; ratios and targets come last.

Run through ``bash bench/run.sh serving`` (it makes the venvs and installs wrk).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from bench import serving_model as sm
from bench import serving_profile
from bench.report import RESULTS_DIR, Report
from bench.serving_kiln import KilnServing, prediction_log_counts
from bench.serving_load import lua_script
from bench.serving_measure import (
    BATCH_CONNECTIONS,
    MB,
    RUNS,
    SINGLE_CONNECTIONS,
    Durations,
    Measured,
    Target,
    prepare,
    turn,
)
from bench.serving_targets import kiln_targets, peer_target
from bench.serving_verdict import verdict
from bench.workload import BenchFailure

SERVERS = ("ceiling", "kiln", "mlflow", "bentoml", "mlserver", "mlserver_pw0")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each timed wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed wrk run before the timed ones")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help=f"comma-separated subset of {','.join(SERVERS)}"
    )
    parser.add_argument("--profile-seconds", type=float, default=6.0, help="py-spy sampling of Kiln (0: off)")
    parser.add_argument(
        "--kiln-process",
        choices=("server", "serve"),
        default="server",
        help="the Kiln process measured: the embedded `kiln server` (control plane, UI and in-process worker "
        "too) or the serving-only `kiln serve` on the same home, as the peers are serving-only processes",
    )
    args = parser.parse_args(argv)
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown:
        parser.error(f"unknown server {unknown[0]!r}; choose from {', '.join(SERVERS)}")
    return args


def profile(
    report: Report, kiln: KilnServing, target: Target, root: Path, seconds: float, *, batch: bool = False
) -> None:
    """py-spy on the server while one-row requests (or 1,000-row batches) arrive."""
    # The batches' prediction-log rows may still be being written: let that finish first, or the
    # profile would show the flusher catching up rather than the path measured.
    kiln.server.wait_settled(60, window=1.0)
    name = f"{target.name}_batch" if batch else target.name
    body, connections = (target.batch, BATCH_CONNECTIONS) if batch else (target.single, SINGLE_CONNECTIONS)
    script = lua_script(root, f"profile-{name}", body, target.headers, 1_000_000)
    RESULTS_DIR.mkdir(exist_ok=True)
    raw = RESULTS_DIR / f"serving-py-spy-{name}-{time.strftime('%Y%m%dT%H%M%S')}.txt"
    url = kiln.server.url + target.path
    found = serving_profile.record(
        kiln.server, url, script, seconds=seconds, out=raw, connections=connections
    )
    if found is None:
        report.note("py-spy did not run: no profile")
        return
    report.note(f"py-spy raw stacks: {raw}")
    serving_profile.report_profile(report, found, prefix=f"profile.{name}")


def run_all(root: Path, trained: sm.Trained, report: Report, args: Any) -> list[Measured]:
    """Start and prepare the servers one by one (each paused once ready), then the timed runs in turns."""
    expected = sm.expected_predictions(trained, sm.BATCH_ROWS)
    joblib_path = sm.save_joblib(trained, root / "joblib" / "model.joblib")
    durations = Durations(warmup_s=args.warmup, timed_s=args.seconds)
    scripts = root / "wrk"
    scripts.mkdir()
    measured: list[Measured] = []
    kiln: KilnServing | None = None
    with ExitStack() as stack:
        for name in args.servers:
            print(f"== start {name}", flush=True)
            if name == "kiln":
                kiln, targets = kiln_targets(stack, root, trained, report, process=args.kiln_process)
            else:
                targets = [peer_target(stack, name, root, trained, joblib_path)]
            measured += [prepare(report, target, expected, durations, scripts) for target in targets]
            targets[0].server.pause()  # idle work of its own must not compete with the next ones
        for run in RUNS:
            print(f"== {run[0]}: every server in turn", flush=True)
            for each in measured:
                turn(report, each, run, durations)
        for each in measured:
            if each.target.healthy_s is not None:
                report.figure(
                    f"{each.target.name}.rss_after_load_mb", each.target.server.rss_bytes() / MB, "MB"
                )
        if kiln is not None:
            kiln.server.resume()
            for name, count in prediction_log_counts(kiln).items():
                report.figure(f"kiln.prediction_log_{name}", count, "records")
            kiln.server.pause()
        if kiln is not None and args.profile_seconds > 0:
            print("== profile: Kiln under py-spy", flush=True)
            kiln.server.resume()
            kiln_measured = [m.target for m in measured if m.target.server is kiln.server]
            for target in kiln_measured:
                profile(report, kiln, target, root, args.profile_seconds)
            profile(report, kiln, kiln_measured[0], root, args.profile_seconds, batch=True)
    return measured


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds every ``with``: each server is stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    report = Report("serving")
    report.figure("machine.load_avg_1m_before", psutil.getloadavg()[0], "")
    trained = sm.train()
    try:
        with tempfile.TemporaryDirectory(prefix="kiln-serving-") as scratch:
            measured = run_all(Path(scratch), trained, report, args)
    except BenchFailure as exc:
        print(f"BENCHMARK FAILED: {exc}", flush=True)
        return 1
    except KeyboardInterrupt as exc:
        print(f"BENCHMARK INTERRUPTED ({exc or 'SIGINT'}): every server was stopped", flush=True)
        return 130
    report.figure("machine.load_avg_1m_after", psutil.getloadavg()[0], "")
    by_name = {m.target.name: m for m in measured}
    kiln = by_name.get("kiln")
    if kiln is not None:
        peers = [m for m in measured if m.target.peer]
        verdict(report, kiln, peers, by_name.get("ceiling"), by_name.get("kiln_oip"))
    print(f"# results: {report.finish()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
