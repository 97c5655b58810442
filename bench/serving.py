"""Kiln's model serving against MLflow, BentoML and MLServer, and a bare uvicorn ceiling, in one run.

Same model everywhere (a scaled LogisticRegression on breast_cancer, trained once here), same load
generator (wrk, one thread, a fixed body), one worker process per server, one server at a time on
loopback. For each: one-row throughput and p50/p99 at 16 connections, p99 at one connection,
1,000-row batches at 4 connections, start-to-healthy seconds and idle RSS after warm-up. Kiln runs a
private deployment called with an API key, prediction logging on; its Open Inference Protocol route is
measured too when this checkout has it (a 404 skips it with a note). Then py-spy profiles Kiln's
predict path under load. Figures print as ``name: value unit``; ratios and targets come last.

Run through ``bash bench/run.sh serving`` (it makes the venvs and installs wrk).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from bench import serving_model as sm
from bench import serving_profile, serving_servers
from bench.report import RESULTS_DIR, Report
from bench.serving_kiln import OIP_INFER_PATH, PREDICT_PATH, KilnServing, kiln_serving
from bench.serving_load import lua_script
from bench.serving_measure import (
    BATCH_CONNECTIONS,
    SINGLE_CONNECTIONS,
    Durations,
    Measured,
    Target,
    measure,
)
from bench.serving_verdict import verdict
from bench.workload import BenchFailure

SERVERS = ("ceiling", "kiln", "mlflow", "bentoml", "mlserver", "mlserver_pw0")
Answers = Callable[[Any], list[Any]]


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
    args = parser.parse_args(argv)
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown:
        parser.error(f"unknown server {unknown[0]!r}; choose from {', '.join(SERVERS)}")
    return args


def output(name: str) -> Answers:
    """The data of one named output of an Open Inference Protocol answer."""
    return lambda doc: next(item["data"] for item in doc["outputs"] if item["name"] == name)


def predictions(doc: Any) -> list[Any]:
    return list(doc["predictions"])


def run_kiln(
    root: Path, trained: sm.Trained, report: Report, expected: list[int], args: Any
) -> list[Measured]:
    durations = _durations(args)
    with kiln_serving(root / "kiln", trained) as kiln:
        target = Target(
            "kiln",
            "Kiln predict",
            kiln.server,
            PREDICT_PATH,
            sm.kiln_predict_body(trained, 1),
            sm.kiln_predict_body(trained, sm.BATCH_ROWS),
            kiln.headers,
            predictions,
            kiln.healthy_s,
            peer=False,
        )
        measured = [measure(report, target, expected, durations)]
        targets = [target]
        if kiln.oip_metadata is None:
            report.note(f"Kiln's OIP route answered 404 for {OIP_INFER_PATH}: not in this checkout, skipped")
        else:
            oip = Target(
                "kiln_oip",
                "Kiln OIP infer",
                kiln.server,
                OIP_INFER_PATH,
                sm.oip_body(trained, 1, kiln.oip_metadata),
                sm.oip_body(trained, sm.BATCH_ROWS, kiln.oip_metadata),
                kiln.headers,
                output("prediction"),
                None,
                peer=False,
            )
            measured.append(measure(report, oip, expected, durations))
            targets.append(oip)
        if args.profile_seconds > 0:
            for profiled in targets:
                profile(report, kiln, profiled, root, args.profile_seconds)
            profile(report, kiln, target, root, args.profile_seconds, batch=True)
    return measured


def profile(
    report: Report, kiln: KilnServing, target: Target, root: Path, seconds: float, *, batch: bool = False
) -> None:
    """py-spy on the server while one-row requests (or 1,000-row batches) arrive."""
    # The batches' prediction-log rows are still being written: let that finish first, or the
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


def run_peer(
    name: str,
    label: str,
    served: serving_servers.Served,
    path: str,
    body: Callable[[sm.Trained, int], bytes],
    answers: Answers | None,
    *,
    trained: sm.Trained,
    report: Report,
    expected: list[int],
    args: Any,
) -> Measured:
    with served as (server, healthy_s):
        target = Target(
            name,
            label,
            server,
            path,
            body(trained, 1),
            body(trained, sm.BATCH_ROWS),
            {},
            answers,
            healthy_s,
            peer=name != "ceiling",
        )
        return measure(report, target, expected, _durations(args))


def _durations(args: Any) -> Durations:
    return Durations(warmup_s=args.warmup, single_s=args.seconds, c1_s=args.seconds, batch_s=args.seconds)


def run_all(root: Path, trained: sm.Trained, report: Report, args: Any) -> list[Measured]:
    expected = sm.expected_predictions(trained, sm.BATCH_ROWS)
    joblib_path = sm.save_joblib(trained, root / "joblib" / "model.joblib")
    common = {"trained": trained, "report": report, "expected": expected, "args": args}
    infer = f"/v2/models/{sm.MODEL_NAME}/infer"
    measured: list[Measured] = []
    for name in args.servers:
        print(f"== {name}", flush=True)
        home = root / name
        if name == "kiln":
            measured += run_kiln(root, trained, report, expected, args)
        elif name == "ceiling":
            served = serving_servers.ceiling_serve(home)
            measured.append(run_peer(name, "bare uvicorn", served, "/", sm.kiln_predict_body, None, **common))
        elif name == "mlflow":
            model_dir = sm.save_mlflow(trained, root / "mlflow-model")
            served = serving_servers.mlflow_serve(home, model_dir)
            measured.append(
                run_peer(name, "MLflow", served, "/invocations", sm.mlflow_body, predictions, **common)
            )
        elif name == "bentoml":
            served = serving_servers.bentoml_serve(home, joblib_path)
            measured.append(
                run_peer(name, "BentoML", served, "/predict", sm.bentoml_body, predictions, **common)
            )
        else:
            workers = 0 if name == "mlserver_pw0" else None
            label = "MLServer parallel_workers=0" if workers == 0 else "MLServer"
            served = serving_servers.mlserver_serve(home, joblib_path, name=name, parallel_workers=workers)
            measured.append(
                run_peer(name, label, served, infer, sm.mlserver_body, output("predict"), **common)
            )
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
