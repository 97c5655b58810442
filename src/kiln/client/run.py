"""``ActiveRun``: the handle ``kiln.start_run`` returns, for logging into one run."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from kiln.client.api import Client
from kiln.client.sender import MetricSender
from kiln.core.errors import Invalid, InvalidState
from kiln.tracking.schemas import ArtifactRead, RunDetail, RunRead, RunStatus

MAX_KEY_LENGTH = 250
MAX_ITEMS_PER_REQUEST = 1000  # the API's limit for params and tags in one batch
INPUT_TAG_PREFIX = "kiln.input."
_CONTROL = re.compile(r"[\x00-\x1f]")


def check_key(key: str) -> str:
    """Refuse a bad key at the call, not later inside a background batch."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or _CONTROL.search(key):
        raise Invalid(f"invalid key {key!r}: use 1-{MAX_KEY_LENGTH} printable characters")
    return key


def as_param_value(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def to_millis(timestamp: int | float | datetime | None) -> int:
    if timestamp is None:
        return int(time.time() * 1000)
    if isinstance(timestamp, datetime):
        return int(timestamp.timestamp() * 1000)
    return int(timestamp)


def exit_status(exc_type: type[BaseException] | None) -> RunStatus:
    if exc_type is None:
        return RunStatus.finished
    if issubclass(exc_type, KeyboardInterrupt):
        return RunStatus.killed
    return RunStatus.failed


class ActiveRun:
    """A running run. Metrics are buffered and sent in the background; params and tags go at once.

    Use it as a context manager: leaving the block ends the run ``finished``, an exception ends it
    ``failed`` (``killed`` for Ctrl-C) and propagates.
    """

    def __init__(
        self, client: Client, info: RunRead, *, on_end: Callable[[ActiveRun], None] | None = None
    ) -> None:
        self.client = client
        self.info = info
        self._on_end = on_end
        self._sender = MetricSender(client, info.id)
        self._next_step: dict[str, int] = {}
        self._lock = threading.Lock()
        self._ended = False

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def experiment_id(self) -> str:
        return self.info.experiment_id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def ended(self) -> bool:
        return self._ended

    def __repr__(self) -> str:
        return f"<ActiveRun id={self.id} name={self.name!r}>"

    # -- logging ----------------------------------------------------------------------------------

    def log_metric(
        self,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | float | datetime | None = None,
    ) -> None:
        """Buffer one point; returns at once. Without ``step``, each key counts 0, 1, 2, ... on its own."""
        if self._ended:
            raise InvalidState(f"run {self.id} has ended; start a new run to log more metrics")
        check_key(key)
        number = float(value)
        with self._lock:
            if step is None:
                step = self._next_step.get(key, 0)
            # An explicit step moves the key's counter past it, so mixing both styles stays ordered.
            self._next_step[key] = max(self._next_step.get(key, 0), int(step) + 1)
        self._sender.add({"key": key, "value": number, "step": int(step), "timestamp": to_millis(timestamp)})

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        stamp = to_millis(None)
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=stamp)

    def log_param(self, key: str, value: Any) -> None:
        """Record a param now; re-logging it with another value raises ``kiln.Conflict``."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        records = [{"key": check_key(k), "value": as_param_value(v)} for k, v in params.items()]
        for start in range(0, len(records), MAX_ITEMS_PER_REQUEST):
            self.client.log_batch(self.id, params=records[start : start + MAX_ITEMS_PER_REQUEST])

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        records = [{"key": check_key(k), "value": as_param_value(v)} for k, v in tags.items()]
        for start in range(0, len(records), MAX_ITEMS_PER_REQUEST):
            self.client.log_batch(self.id, tags=records[start : start + MAX_ITEMS_PER_REQUEST])

    def log_input(
        self, name: str, version: str = "", digest: str = "", uri: str = "", kind: str = "dataset"
    ) -> None:
        """Record a dataset the run read, after creation: stored as the tag ``kiln.input.<name>``.

        The API takes inputs only when a run is created (``start_run(inputs=[...])``); inputs logged
        later travel as a JSON tag, which ``kiln runs reproduce`` lists beside the others.
        """
        description = {"kind": kind, "name": name, "version": version, "digest": digest, "uri": uri}
        self.set_tag(f"{INPUT_TAG_PREFIX}{name}", json.dumps(description, sort_keys=True))

    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> ArtifactRead:
        """Upload a file to ``{artifact_path}/{file name}``, streamed from disk."""
        return self.client.upload_artifact(self.id, local_path, artifact_path)

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> list[ArtifactRead]:
        return self.client.upload_artifacts(self.id, local_dir, artifact_path)

    # -- lifecycle --------------------------------------------------------------------------------

    def flush(self) -> None:
        """Block until every buffered metric is stored; raise the first delivery error, if any."""
        self._sender.flush()

    def refresh(self) -> RunDetail:
        """The run as the server has it now (after a flush of buffered metrics)."""
        self.flush()
        return self.client.get_run(self.id)

    def end(self, status: RunStatus | str = RunStatus.finished) -> None:
        """Deliver everything buffered, then mark the run ``finished``/``failed``/``killed``."""
        if self._ended:
            return
        self._ended = True
        try:
            self._sender.close()
        finally:
            try:
                self.info = self.client.update_run(self.id, status=RunStatus(status))
            finally:
                if self._on_end is not None:
                    self._on_end(self)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.finished)
            return
        try:
            self.end(exit_status(exc_type))
        except Exception as end_error:  # the user's exception matters more; report ours beside it
            print(f"kiln: could not end run {self.id}: {end_error}", file=sys.stderr)
