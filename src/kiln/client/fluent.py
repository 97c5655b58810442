"""MLflow-style module functions over the active run: ``kiln.start_run``, ``kiln.log_metric``, ...

Runs started here form a stack (nested runs on top). Nothing is lost at exit: an ``atexit`` hook
flushes and ends open runs ``finished``; an uncaught exception ends them ``failed`` (Ctrl-C:
``killed``) through a chained ``sys.excepthook``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from kiln.client import environment
from kiln.client.api import Client, default_client
from kiln.client.run import ActiveRun, exit_status
from kiln.core.errors import InvalidState
from kiln.serving.deployment_schemas import PredictResult
from kiln.serving.schemas import FeedbackRecorded
from kiln.tracking.schemas import ArtifactRead, RunInputCreate, RunStatus

DEFAULT_EXPERIMENT = "default"

_runs: list[ActiveRun] = []
_lock = threading.RLock()
_hooks_installed = False


def active_run() -> ActiveRun | None:
    """The innermost run started with ``start_run`` and not ended yet, or ``None``."""
    with _lock:
        return _runs[-1] if _runs else None


def _forget(run: ActiveRun) -> None:
    with _lock:
        if run in _runs:
            _runs.remove(run)


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
    inputs: Sequence[RunInputCreate | Mapping[str, Any]] | None = None,
    capture_environment: bool = True,
    *,
    project: str | None = None,
    nested: bool = False,
    client: Client | None = None,
) -> ActiveRun:
    """Create a run and make it the active one; use it as ``with kiln.start_run(...) as run:``.

    ``experiment`` is a name, created on first use (default: ``$KILN_EXPERIMENT`` or "default").
    With ``nested=True`` inside an active run, the new run becomes its child (same experiment).
    ``inputs`` are dataset references: ``{"name", "version", "digest", "uri", "kind"}``.
    ``project`` (id or name) is where a new experiment is created: default ``$KILN_PROJECT``, else the
    API key's project, else "default".
    """
    client = client or default_client()
    parent = active_run()
    if parent is not None and not nested and parent_run_id is None:
        raise InvalidState(
            f"run {parent.id} is still active; end it (kiln.end_run()) or pass nested=True for a child run"
        )
    if nested and parent is not None and parent_run_id is None:
        parent_run_id = parent.id
    if experiment is None and parent_run_id is not None:
        # A child run lives in its parent's experiment.
        if parent is not None and parent.id == parent_run_id:
            experiment_id = parent.experiment_id
        else:
            experiment_id = client.get_run(parent_run_id).experiment_id
    else:
        name_or_default = experiment or os.environ.get("KILN_EXPERIMENT") or DEFAULT_EXPERIMENT
        project = project or os.environ.get("KILN_PROJECT") or None
        experiment_id = client.get_or_create_experiment(name_or_default, project=project).id
    info = client.create_run(
        experiment_id,
        name=name,
        parent_run_id=parent_run_id,
        source=environment.script_path(),
        tags={k: str(v) for k, v in (tags or {}).items()},
        environment=environment.capture_environment() if capture_environment else {},
        inputs=list(inputs or ()),
    )
    run = ActiveRun(client, info, on_end=_forget)
    with _lock:
        _runs.append(run)
    _install_exit_hooks()
    return run


def _require_run() -> ActiveRun:
    """The active run; like MLflow, logging with none active starts one in the default experiment."""
    return active_run() or start_run()


def end_run(status: RunStatus | str = RunStatus.finished) -> None:
    """End the active run (after delivering its buffered metrics). No-op when none is active."""
    run = active_run()
    if run is not None:
        run.end(status)


def flush() -> None:
    """Block until the active run's buffered metrics are stored."""
    run = active_run()
    if run is not None:
        run.flush()


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    _require_run().log_metric(key, value, step=step, timestamp=timestamp)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    _require_run().log_metrics(metrics, step=step)


def log_param(key: str, value: Any) -> None:
    _require_run().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _require_run().log_params(params)


def set_tag(key: str, value: Any) -> None:
    _require_run().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _require_run().set_tags(tags)


def log_input(name: str, version: str = "", digest: str = "", uri: str = "", kind: str = "dataset") -> None:
    _require_run().log_input(name, version=version, digest=digest, uri=uri, kind=kind)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> ArtifactRead:
    return _require_run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> list[ArtifactRead]:
    return _require_run().log_artifacts(local_dir, artifact_path)


# -- serving ----------------------------------------------------------------------------------


def predict(deployment: str, rows: Any, *, client: Client | None = None) -> PredictResult:
    """Predictions from deployment ``deployment`` for ``rows``: a list of records (dicts), a dict of
    columns (lists) or a pandas DataFrame. The result has ``predictions`` (one per row, in order),
    ``probabilities`` and ``classes`` for classifiers, ``model_version`` and the ``request_id`` that
    ``kiln.feedback`` names later. Bad rows raise ``kiln.ValidationFailed`` naming the field."""
    return (client or default_client()).deployments.predict(deployment, rows)


def feedback(
    request_id: str, actual: Any, values: Mapping[str, Any] | None = None, *, client: Client | None = None
) -> FeedbackRecorded:
    """Tell Kiln the actual outcome of a prediction (the ``request_id`` its answer carried), minutes
    or days later; ``values`` are business values of it (``{"amount": 120.5}``). Sending it again
    replaces the earlier outcome. Many at once: ``kiln.Client().predictions.feedback_batch``."""
    return (client or default_client()).predictions.feedback(request_id, actual, values)


# -- process exit ---------------------------------------------------------------------------------


def _end_all(status: RunStatus) -> None:
    """End every open run, innermost first; at exit there is no caller left to raise to."""
    while True:
        run = active_run()
        if run is None:
            return
        try:
            run.end(status)
        except Exception as exc:  # reported on stderr: the process is exiting, nobody can catch it
            print(f"kiln: could not end run {run.id} as {status.value}: {exc}", file=sys.stderr)
            _forget(run)


def _at_exit() -> None:
    _end_all(RunStatus.finished)


def _install_exit_hooks() -> None:
    global _hooks_installed
    with _lock:
        if _hooks_installed:
            return
        _hooks_installed = True
    atexit.register(_at_exit)
    previous = sys.excepthook

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, traceback: TracebackType | None
    ) -> None:
        try:
            _end_all(exit_status(exc_type))
        finally:
            previous(exc_type, exc, traceback)

    sys.excepthook = excepthook
