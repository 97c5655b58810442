"""The tracking workloads through MLflow's own Python client, as an MLflow user would write them."""

from __future__ import annotations

import time
import uuid

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from bench.workload import (
    PAGE_SIZE,
    SEARCH_METRIC,
    SEARCH_THRESHOLD,
    Deadline,
    SearchTimes,
    Timed,
    batch_points,
    expect,
    expected_filtered,
    loss,
    run_score,
)

MAX_METRICS_PER_BATCH = 1000  # MLflow refuses larger log_batch calls


def _unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def log_metric_loop(url: str, calls: int, limit: float, *, asynchronous: bool = False) -> Timed:
    """(a) ``mlflow.log_metric`` once per step; the clock stops when the run has ended.

    ``asynchronous`` uses MLflow's opt-in async logging (``synchronous=False``); ending the run waits
    for its queue, so the clock still stops only once the data is stored.
    """
    mlflow.set_tracking_uri(url)
    deadline = Deadline("mlflow log_metric loop", limit)
    started = time.perf_counter()
    mlflow.set_experiment(_unique("bench-log-metric-loop"))
    with mlflow.start_run() as run:
        loop_started = time.perf_counter()
        start_seconds = loop_started - started
        for step in range(calls):
            mlflow.log_metric("loss", loss(step), step=step, synchronous=not asynchronous)
            if step % 100 == 0:
                deadline.check()
        looped = time.perf_counter() - loop_started
        if asynchronous:
            mlflow.flush_async_logging()
    elapsed = time.perf_counter() - started
    stored = len(MlflowClient(url).get_metric_history(run.info.run_id, "loss"))
    expect("mlflow log_metric loop points", stored, calls)
    return Timed(
        elapsed,
        calls,
        start_seconds=start_seconds,
        loop_seconds=looped,
        finish_seconds=elapsed - start_seconds - looped,
    )


def log_batch(url: str, values: int, limit: float) -> Timed:
    """(b) ``MlflowClient.log_batch`` in chunks of MLflow's maximum of 1,000 metrics per call."""
    client = MlflowClient(url)
    experiment_id = client.create_experiment(_unique("bench-log-batch"))
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(key, value, now, step) for key, step, value in batch_points(values)]
    deadline = Deadline("mlflow log_batch", limit)
    started = time.perf_counter()
    for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[start : start + MAX_METRICS_PER_BATCH])
        deadline.check()
    elapsed = time.perf_counter() - started
    keys = {metric.key for metric in metrics}
    stored = sum(len(client.get_metric_history(run_id, key)) for key in keys)
    expect("mlflow log_batch points", stored, values)
    return Timed(elapsed, values)


def _page_through(client: MlflowClient, experiment_id: str, filter_string: str, deadline: Deadline) -> int:
    count, token = 0, None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string=filter_string, max_results=PAGE_SIZE, page_token=token
        )
        count += len(page)
        token = page.token
        deadline.check()
        if not token:
            return count


def runs_and_search(url: str, runs: int, limit: float) -> SearchTimes:
    """(c) create runs (one param, one metric, then finished), then search them two ways."""
    client = MlflowClient(url)
    experiment_id = client.create_experiment(_unique("bench-runs"))
    now = int(time.time() * 1000)
    deadline = Deadline("mlflow run creation", limit)
    started = time.perf_counter()
    for index in range(runs):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(SEARCH_METRIC, run_score(index), now, 0)],
            params=[Param("seed", str(index))],
        )
        client.set_terminated(run_id)
        deadline.check()
    create = Timed(time.perf_counter() - started, runs)

    search_deadline = Deadline("mlflow search", limit)
    started = time.perf_counter()
    found = _page_through(
        client, experiment_id, f"metrics.{SEARCH_METRIC} > {SEARCH_THRESHOLD}", search_deadline
    )
    filtered = Timed(time.perf_counter() - started, found)
    expect("mlflow filtered search", found, expected_filtered(runs))

    started = time.perf_counter()
    listed_count = _page_through(client, experiment_id, "", search_deadline)
    listed = Timed(time.perf_counter() - started, listed_count)
    expect("mlflow full listing", listed_count, runs)
    return SearchTimes(create=create, filtered=filtered, listed=listed)
