"""Where Kiln's time goes on the predict path: py-spy samples the live server under wrk's load.

py-spy (in the benchmark venv) attaches to the measured ``kiln server`` while one-row requests
arrive at 16 connections (and once more while 1,000-row batches arrive at 4), and samples only the
thread holding the GIL (``--gil``): in a one-process Python server that is the time that limits
throughput. It runs ``--nonblocking`` (the server is never paused). The raw stacks are kept in
bench/results/ and summed into:

- ``profile.<name>.part.<part>_pct``: shares that add up to 100 %: the prediction log's flusher
  thread, worker threads, the endpoint itself, the rest of the request (middleware, routing, sending
  the answer) and the rest of the event loop (HTTP parsing, scheduling);
- ``profile.<name>.step.<step>_pct``: the share of samples inside each step of the path (a stack
  counts for every step it passes through, so nested steps overlap: ``model_predict`` includes
  ``sklearn``);
- the top functions by inclusive and by self share, printed as notes (and kept in the JSON).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import Report
from bench.servers import BIN, Server
from bench.serving_load import run_wrk

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")

# (step, function, file fragment): a sample is in the step when one of its frames matches both (the
# function by its name, with or without its class: ``validate`` matches ``LoadedModel.validate``).
# Steps nest and overlap: ``model_predict`` holds ``dataframe`` and ``sklearn``.
STEPS: list[tuple[str, str, str]] = [
    ("endpoint", "predict", "serving/predict_router"),
    ("oip_endpoint", "infer", "serving/inference_router"),
    ("authorize", "authorize_request", "serving/predict_router"),
    ("parse_json", "parse_payload", "serving/predict_payload"),
    ("oip_parse", "parse_infer_request", "serving/"),
    ("validate", "validate", "registry/loaded_model"),
    ("model_predict", "predict", "registry/flavors/"),
    ("dataframe", "frame", "registry/signature"),
    ("sklearn", "", "sklearn/"),
    ("pandas", "", "pandas/"),
    ("prediction_log_append", "record", "serving/predict_router"),
    ("encode_answer", "_json", "serving/predict_router"),
    ("oip_encode", "encode_infer_response", "serving/"),
    ("sqlalchemy", "", "sqlalchemy/"),
    ("structlog", "", "structlog/"),
]
# The parts, which add up to 100 %: the first that matches a stack (top to bottom here) takes it.
ENDPOINTS = [("predict", "serving/predict_router"), ("infer", "serving/inference_router")]
PARTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("prediction_log_flusher", [("_run", "serving/prediction_log")]),
    ("worker_threads", [("WorkerThread.run", "anyio/")]),  # work handed off the loop
    ("request_in_endpoint", ENDPOINTS),
    ("request_outside_endpoint", [("run_asgi", "uvicorn/protocols/http")]),  # middleware, routing, send
    ("event_loop_rest", []),  # HTTP parsing, asyncio scheduling, anything else
]


@dataclass
class Profile:
    samples: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    parts: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    self_time: Counter[str] = field(default_factory=Counter)

    def pct(self, count: int) -> float:
        return 100.0 * count / self.samples if self.samples else 0.0


def _frame(text: str) -> tuple[str, str]:
    match = FRAME.match(text)
    return (match["func"], match["file"]) if match else (text, "")


def _has(frames: list[tuple[str, str]], func: str, fragment: str) -> bool:
    return any(
        fragment in file and (not func or name == func or name.endswith("." + func)) for name, file in frames
    )


def parse_raw(text: str) -> Profile:
    """py-spy's raw output: one ``frame;frame;... count`` line per distinct stack, root first."""
    profile = Profile()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(item) for item in stack.split(";")]
        profile.samples += count
        for step, func, fragment in STEPS:
            if _has(frames, func, fragment):
                profile.steps[step] += count
        part = next(name for name, matches in PARTS if not matches or any(_has(frames, *m) for m in matches))
        profile.parts[part] += count
        for key in {f"{name} ({file})" for name, file in frames}:
            profile.inclusive[key] += count
        name, file = frames[-1]
        profile.self_time[f"{name} ({file})"] += count
    return profile


def py_spy() -> str | None:
    found = BIN / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def record(
    server: Server, url: str, script: Path, *, seconds: float, out: Path, connections: int = 16
) -> Profile | None:
    """Sample the server for ``seconds`` while wrk sends ``script``'s requests."""
    binary = py_spy()
    if binary is None or server.process is None:
        return None
    command = [
        binary,
        "record",
        "--pid",
        str(server.process.pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "200",
        "--gil",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(out),
    ]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # attached before the load starts
    loader = threading.Thread(
        target=run_wrk,
        args=(server, url, script),
        kwargs={"connections": connections, "seconds": seconds + 1},
    )
    loader.start()
    try:
        _, errors = sampler.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        return None
    finally:  # also on an interrupt: no sampler is left attached
        if sampler.poll() is None:
            sampler.kill()
            sampler.communicate()
        loader.join(timeout=seconds + 60)
    if sampler.returncode != 0 or not out.exists():
        print(f"# py-spy failed: {errors.decode(errors='replace')[-300:]}", flush=True)
        return None
    return parse_raw(out.read_text())


def report_profile(report: Report, profile: Profile, *, prefix: str, top: int = 25) -> None:
    """Figures ``<prefix>.part.*`` and ``<prefix>.step.*`` (steps that never matched are left out)."""
    report.figure(f"{prefix}.samples", profile.samples, "samples")
    for part, _ in PARTS:
        report.figure(f"{prefix}.part.{part}_pct", profile.pct(profile.parts[part]), "%")
    for step, _, _ in STEPS:
        if profile.steps[step]:
            report.figure(f"{prefix}.step.{step}_pct", profile.pct(profile.steps[step]), "%")
    for title, counter in (("inclusive", profile.inclusive), ("self", profile.self_time)):
        report.note(f"{prefix}: top {top} functions by {title} share of GIL-holding samples")
        for key, count in counter.most_common(top):
            report.note(f"  {profile.pct(count):5.1f} %  {key}")
