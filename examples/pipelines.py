"""Example pipelines (tests and the demo register them; the server allows ``examples`` by default).

``training``: make a telemetry-like table, check it, train two candidates at once, keep the best.

    kiln pipelines register examples.pipelines:training
    kiln pipelines run training -p rows=400 -p alpha=0.5
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kiln.pipelines import log_metric, log_param, param, pipeline, step

log = logging.getLogger("examples.pipelines")


@step
def make_data(rows: int, seed: int = 0) -> pd.DataFrame:
    """A seeded table of latency telemetry with a label (slow or not)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"latency_ms": rng.gamma(2.0, 40.0, rows), "payload_kb": rng.uniform(1, 512, rows)})
    frame["slow"] = (frame["latency_ms"] + 0.1 * frame["payload_kb"] > 120).astype(int)
    print(f"made {rows} rows")
    return frame


@step(retries=1, retry_delay=0.1)
def validate(data: pd.DataFrame) -> pd.DataFrame:
    if data.isna().any().any():
        raise ValueError("the data has missing values")
    log.info("validated %d rows", len(data))
    return data


@step
def train(data: pd.DataFrame, alpha: float, feature: str) -> dict[str, Any]:
    """A one-feature threshold model: the cut that best separates slow from fast, shrunk by alpha."""
    values = data[feature].to_numpy()
    labels = data["slow"].to_numpy()
    cuts = np.quantile(values, np.linspace(0.05, 0.95, 19))
    scores = [float(((values > cut) == labels).mean()) for cut in cuts]
    best = int(np.argmax(scores))
    print(f"{feature}: accuracy {scores[best]:.3f}")
    return {"feature": feature, "cut": float(cuts[best]) * (1 - 0.01 * alpha), "accuracy": scores[best]}


@step
def pick_best(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    best = max([first, second], key=lambda candidate: candidate["accuracy"])
    log.info("best candidate: %s", best["feature"])
    return best


@pipeline
def training(
    rows: int = param(400, minimum=10, maximum=1_000_000), alpha: float = param(0.5, minimum=0, maximum=1)
) -> None:
    """Make data, validate it, train two candidates in parallel, keep the better one."""
    data = validate(make_data(rows))
    pick_best(train(data, alpha, "latency_ms"), train(data, alpha, "payload_kb"))


# -- small pipelines the tests run (behaviour a user would notice: order, overlap, failure) -------


@step
def wait_a_moment(seconds: float, tag: str) -> dict[str, Any]:
    """Sleep, then say when it ran (independent calls of it overlap when run in parallel)."""
    started = time.time()
    time.sleep(seconds)
    return {"tag": tag, "started": started, "finished": time.time(), "pid": os.getpid()}


@step
def gather(first: dict[str, Any], second: dict[str, Any]) -> list[dict[str, Any]]:
    return [first, second]


@pipeline
def fan_out(seconds: float = param(1.0, minimum=0, maximum=60)) -> None:
    gather(wait_a_moment(seconds, "a"), wait_a_moment(seconds, "b"))


@step
def fail(message: str) -> None:
    raise RuntimeError(message)


@step
def after_failure(value: Any) -> str:
    return "should never run"


@pipeline
def failing(message: str = "the step broke") -> None:
    after_failure(fail(message))
    wait_a_moment(0.0, "independent")


@step(retries=2, retry_delay=0.05)
def flaky(marker: str, failures: int) -> int:
    """Fails its first ``failures`` calls, counted in the file ``marker``."""
    path = Path(marker)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    if calls <= failures:
        raise RuntimeError(f"call {calls} fails on purpose")
    return calls


@pipeline
def retrying(marker: str = "", failures: int = param(1, minimum=0)) -> None:
    flaky(marker, failures)


@step
def count_call(marker: str) -> int:
    """Appends a line to ``marker`` each time it runs (a resumed run must not run it again)."""
    with open(marker, "a") as handle:
        handle.write("ran\n")
    return sum(1 for _ in open(marker))


@step
def wait_for_file(path: str, after: int, deadline_seconds: float = 60.0) -> str:
    """Waits until ``path`` exists (the test's signal), at most ``deadline_seconds``."""
    end = time.monotonic() + deadline_seconds
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.05)
    return "released" if os.path.exists(path) else "gave up"


@pipeline
def resumable(marker: str = "", release: str = "") -> None:
    wait_for_file(release, count_call(marker))


@step(retries=1, retry_delay=0.05)
def link(previous: int | None, position: int, fail_at: int, flaky_at: int, marker: str) -> int:
    """One step of a chain: checks it got the step before's output and hands on its position.
    Fails at ``fail_at`` (every attempt), or once at ``flaky_at`` (remembered in the file ``marker``)."""
    log.info("link %d got %s", position, previous)
    if previous != (None if position == 0 else position - 1):
        raise ValueError(f"link {position} got {previous!r}")
    if position == fail_at:
        raise RuntimeError(f"link {position} broke")
    if position == flaky_at and not os.path.exists(marker):
        Path(marker).write_text("failed once")
        raise RuntimeError(f"link {position} fails once")
    return position


@pipeline
def chained(fail_at: int = -1, flaky_at: int = -1, marker: str = "") -> None:
    """Eight steps one after another (``link`` .. ``link_8``): the worker hands them to one process."""
    value = link(None, 0, fail_at, flaky_at, marker)
    for position in range(1, 8):
        value = link(value, position, fail_at, flaky_at, marker)


@step(timeout=1.0)
def stuck(seconds: float) -> str:
    """Hangs far longer than its timeout (a deadlock, a call that never answers)."""
    time.sleep(seconds)
    return "woke up"


@pipeline
def hanging(seconds: float = 120.0) -> None:
    after_failure(stuck(seconds))


@step(timeout=1.0)
def stuck_after(previous: Any, seconds: float) -> str:
    """Like ``stuck``, once the step before it has run (a hang in the middle of a chain)."""
    time.sleep(seconds)
    return "woke up"


@pipeline
def hanging_in_chain(seconds: float = 120.0) -> None:
    after_failure(stuck_after(link(None, 0, -1, -1, ""), seconds))


@step
def count_rows(dataset_version: int) -> dict[str, Any]:
    """Says which dataset version it was started for (a trigger passes it)."""
    log.info("new data: version %d", dataset_version)
    return {"dataset_version": dataset_version}


@pipeline
def on_new_data(dataset_version: int = param(1, minimum=1)) -> None:
    count_rows(dataset_version)


@step
def note_retraining(deployment: str, retrain_reason: str, rows: int) -> dict[str, Any]:
    """Says which deployment it retrains and why (a retraining trigger passes both)."""
    log.info("retraining %s: %s", deployment, retrain_reason)
    return {"deployment": deployment, "reason": retrain_reason, "rows": rows}


@pipeline
def retrain(
    deployment: str = "", retrain_reason: str = "manual", rows: int = param(100, minimum=10, maximum=10_000)
) -> None:
    """What a retraining trigger starts when a deployment drifts or its alert fires."""
    note_retraining(deployment, retrain_reason, rows)


# -- models as step outputs, child tracking runs, lineage ------------------------------------------

FEATURES = ["latency_ms", "payload_kb"]


@step
def fit_classifier(data: pd.DataFrame, c: float) -> Any:
    """A fitted scikit-learn model: stored as a model folder (skops), tracked as a child run."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=500).fit(data[FEATURES], data["slow"])
    log_param("solver", model.solver)
    log_metric("train_accuracy", float(model.score(data[FEATURES], data["slow"])))
    return model


@step(track=True)
def score_classifier(model: Any, data: pd.DataFrame) -> dict[str, Any]:
    """Uses the model the upstream step returned (loaded back from the store)."""
    accuracy = float(model.score(data[FEATURES], data["slow"]))
    for step_number, rows in enumerate((len(data) // 2, len(data))):
        log_metric("accuracy", float(model.score(data[FEATURES][:rows], data["slow"][:rows])), step_number)
    return {"model": type(model).__name__, "accuracy": accuracy}


@pipeline
def classifier(rows: int = param(300, minimum=10), c: float = param(1.0, minimum=0.001)) -> None:
    data = make_data(rows)
    score_classifier(fit_classifier(data, c), data)


@step
def return_a_set() -> Any:
    return {1, 2, 3}


@pipeline
def unstorable() -> None:
    after_failure(return_a_set())


@step
def register_classifier(model: Any, name: str, url: str, token: str) -> dict[str, Any]:
    """Registers the upstream model through the SDK (tagged with this run and step on the way)."""
    import kiln

    with tempfile.TemporaryDirectory(prefix="kiln-example-") as folder:
        saved = kiln.save_model(model, Path(folder) / "model")
        # A generous timeout: the test machine is shared and the upload checks the payload.
        with kiln.Client(url, token=token, timeout=120.0) as client:
            version = client.models.upload(name, saved, draft=False)
    return {"model": name, "version": version.number}


@pipeline
def registered_classifier(
    dataset: str = "", url: str = "", token: str = "", model: str = "from_step"
) -> None:
    data = make_data(param_rows(dataset))
    register_classifier(fit_classifier(data, 1.0), model, url, token)


@step
def param_rows(dataset: str) -> int:
    """Reads nothing; names a dataset version (lineage links the version to this step's output)."""
    return 200
