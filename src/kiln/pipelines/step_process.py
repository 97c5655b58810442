"""One step, executed where the executor puts it (a local pool process, a Dask worker).

Everything crosses as plain data (``StepTask`` in, ``StepOutcome`` out), so a step runs in another
process or on another machine: its inputs are read from the artifact store, its output is written
there (a DataFrame as Parquet, a scikit-learn model as a model folder, any other value as JSON:
``step_outputs``), and only the output's key and checksum come back, with the metrics and params the
step logged (``step_context``). The database is the worker's business, never the step's.

Measured per step: wall time, CPU time of the process (the process runs one step at a time), and
peak memory: on Linux the resident set's high-water mark, reset before the step
(``/proc/self/clear_refs``) and read after it (``VmHWM``); elsewhere the process's lifetime peak.
Whatever the step prints or logs is captured as timestamped lines.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import resource
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kiln.pipelines import step_context
from kiln.pipelines.functions import resolve_function
from kiln.pipelines.step_outputs import load_output, save_output
from kiln.storage.store import ArtifactStore


@dataclass(frozen=True, slots=True)
class StepTask:
    run_id: str
    step: str
    function: str
    # argument -> {"value": JSON} or {"artifact": a stored output's descriptor}
    arguments: dict[str, dict[str, Any]]
    store_root: str
    store_options: dict[str, Any]
    allowed_modules: tuple[str, ...]
    output_key: str


# An argument of a chained step (``step_pool``) taking the output of the step before it in the
# chain: not known when the chain is handed over, read from the artifact store like any output.
PREVIOUS_OUTPUT: dict[str, Any] = {"previous": True}


def with_previous_output(task: StepTask, output: dict[str, Any] | None) -> StepTask:
    """``task`` with its ``PREVIOUS_OUTPUT`` arguments naming ``output``, the previous step's."""
    if output is None or not any(source.get("previous") for source in task.arguments.values()):
        return task
    arguments = {
        name: {"artifact": output} if source.get("previous") else source
        for name, source in task.arguments.items()
    }
    return dataclasses.replace(task, arguments=arguments)


@dataclass(slots=True)
class StepOutcome:
    ok: bool
    started_at: datetime
    finished_at: datetime
    wall_seconds: float
    cpu_seconds: float
    peak_memory_bytes: int | None
    log: list[str] = field(default_factory=list)
    output: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None
    # What the step logged for its child tracking run (``step_context``).
    metrics: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)


_stores: dict[tuple[str, str], ArtifactStore] = {}


def _store(task: StepTask) -> ArtifactStore:
    """The task's store, opened once per process (opening resolved the filesystem on every step)."""
    key = (task.store_root, json.dumps(task.store_options, sort_keys=True, default=str))
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = ArtifactStore(task.store_root, task.store_options)
    return store


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Lines(io.TextIOBase):
    """A text stream that keeps each complete line, timestamped, under ``level``."""

    def __init__(self, lines: list[str], level: str, guard: threading.Lock) -> None:
        self.lines, self.level, self._guard, self.partial = lines, level, guard, ""

    def write(self, text: str) -> int:
        with self._guard:
            self.partial += text
            *complete, self.partial = self.partial.split("\n")
            for line in complete:
                self.lines.append(f"{_stamp()} {self.level} {line}")
        return len(text)

    def flush_partial(self) -> None:
        if self.partial:
            self.write("\n")


class _Capture(logging.Handler):
    """The step's log records as lines. Its lock shared with the streams is ``_guard``, never
    ``lock``: ``Handler.handle`` takes ``self.lock`` around ``emit``, so a plain lock under that
    name was taken twice and the step's process hung at its first ``log.info`` (the hang that was
    blamed on Parquet: the DataFrame pipeline was the one whose steps log)."""

    def __init__(self, lines: list[str], guard: threading.Lock) -> None:
        super().__init__(logging.INFO)
        self.lines, self._guard = lines, guard

    def emit(self, record: logging.LogRecord) -> None:
        with self._guard:
            self.lines.append(f"{_stamp()} {record.levelname} {record.getMessage()}")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _peak(reset: bool) -> int | None:
    if reset:
        with contextlib.suppress(OSError), open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * 1024 if sys.platform != "darwin" else peak


def execute_step(task: StepTask) -> StepOutcome:
    """Run ``task``'s function on its inputs and store its output; never raises (the outcome says)."""
    lines: list[str] = []
    lock = threading.Lock()
    started_at = datetime.now(UTC)
    wall, cpu = time.perf_counter(), time.process_time()
    reset = _reset_peak()
    out, err = _Lines(lines, "INFO", lock), _Lines(lines, "ERROR", lock)
    handler = _Capture(lines, lock)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    store = _store(task)
    output: dict[str, Any] | None = None
    failure: BaseException | None = None
    recorded = step_context.StepRecording()
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            step_context.recording(task.run_id, task.step) as recorded,
        ):
            function = resolve_function(task.function, task.allowed_modules, step=task.step)
            arguments = {name: load_output(store, source) for name, source in task.arguments.items()}
            value = function(**arguments)
            output = save_output(store, task.step, task.output_key, value)
    except BaseException as exc:  # the step's failure is its outcome, whatever it raised
        failure = exc
    finally:
        out.flush_partial()
        err.flush_partial()
        root.removeHandler(handler)
        root.setLevel(level)
    outcome = StepOutcome(
        ok=failure is None,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        wall_seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
        peak_memory_bytes=_peak(reset),
        log=lines,
        output=output,
        metrics=recorded.metrics,
        params=recorded.params,
    )
    if failure is not None:
        outcome.error = f"{type(failure).__name__}: {failure}"
        outcome.traceback = "".join(traceback.format_exception(failure))
        lines.append(f"{_stamp()} ERROR step {task.step} failed: {outcome.error}")
    return outcome
