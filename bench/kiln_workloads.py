"""The tracking workloads through Kiln's Python SDK (``import kiln``), as a Kiln user would write them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import kiln
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

BATCH_CHUNK = 10_000  # metrics per REST batch call in (b); the API takes up to 100,000


def _unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _stored_points(client: kiln.Client, run_id: str, key: str) -> int:
    return client.get_metric_history(run_id, key, max_points=2).total_points


def log_metric_loop(url: str, calls: int, limit: float) -> Timed:
    """(a) ``run.log_metric`` once per step; the clock stops when the run has ended.

    ``log_metric`` only buffers; ending the run flushes the buffer and waits for the server to
    commit it, so the clock covers delivery, not just the calls.
    """
    kiln.set_tracking_uri(url)
    deadline = Deadline("kiln log_metric loop", limit)
    started = time.perf_counter()
    with kiln.start_run(experiment=_unique("bench-log-metric-loop")) as run:
        loop_started = time.perf_counter()
        start_seconds = loop_started - started
        for step in range(calls):
            run.log_metric("loss", loss(step), step=step)
            if step % 100 == 0:
                deadline.check()
        looped = time.perf_counter() - loop_started
        run.flush()
    elapsed = time.perf_counter() - started
    with kiln.Client(url) as client:
        expect("kiln log_metric loop points", _stored_points(client, run.id, "loss"), calls)
    return Timed(
        elapsed,
        calls,
        start_seconds=start_seconds,
        loop_seconds=looped,
        finish_seconds=elapsed - start_seconds - looped,
    )


def log_batch(url: str, values: int, limit: float) -> Timed:
    """(b) ``Client.log_batch``: each call is one REST request, committed before it returns."""
    with kiln.Client(url) as client:
        experiment_id = client.create_experiment(_unique("bench-log-batch")).id
        run_id = client.create_run(experiment_id).id
        now = int(time.time() * 1000)
        metrics = [
            {"key": key, "value": value, "step": step, "timestamp": now}
            for key, step, value in batch_points(values)
        ]
        deadline = Deadline("kiln log_batch", limit)
        started = time.perf_counter()
        for start in range(0, len(metrics), BATCH_CHUNK):
            client.log_batch(run_id, metrics=metrics[start : start + BATCH_CHUNK])
            deadline.check()
        elapsed = time.perf_counter() - started
        keys = {metric["key"] for metric in metrics}
        stored = sum(_stored_points(client, run_id, str(key)) for key in keys)
    expect("kiln log_batch points", stored, values)
    return Timed(elapsed, values)


def _page_through(client: kiln.Client, experiment_id: str, filter: str | None, deadline: Deadline) -> int:
    count, cursor = 0, None
    while True:
        page = client.search_runs(
            experiment_ids=[experiment_id], filter=filter, limit=PAGE_SIZE, cursor=cursor
        )
        count += len(page.items)
        cursor = page.next_cursor
        deadline.check()
        if not cursor:
            return count


def runs_and_search(
    url: str, runs: int, limit: float, *, server_cpu: Callable[[], float] | None = None
) -> SearchTimes:
    """(c) create runs (one param, one metric, then finished), then search them two ways.

    ``server_cpu`` (the server tree's CPU seconds so far) adds the server's CPU over the creation
    loop to its figures, beside the client's own (``time.process_time``).
    """
    with kiln.Client(url) as client:
        experiment_id = client.create_experiment(_unique("bench-runs")).id
        now = int(time.time() * 1000)
        deadline = Deadline("kiln run creation", limit)
        server_before = server_cpu() if server_cpu else 0.0
        client_before = time.process_time()
        started = time.perf_counter()
        for index in range(runs):
            run_id = client.create_run(experiment_id).id
            client.log_batch(
                run_id,
                metrics=[{"key": SEARCH_METRIC, "value": run_score(index), "step": 0, "timestamp": now}],
                params=[{"key": "seed", "value": str(index)}],
            )
            client.update_run(run_id, status="finished")
            deadline.check()
        elapsed = time.perf_counter() - started
        create = Timed(
            elapsed,
            runs,
            client_cpu_seconds=time.process_time() - client_before,
            server_cpu_seconds=server_cpu() - server_before if server_cpu else None,
        )

        search_deadline = Deadline("kiln search", limit)
        started = time.perf_counter()
        found = _page_through(
            client, experiment_id, f"metrics.{SEARCH_METRIC} > {SEARCH_THRESHOLD}", search_deadline
        )
        filtered = Timed(time.perf_counter() - started, found)
        expect("kiln filtered search", found, expected_filtered(runs))

        started = time.perf_counter()
        listed_count = _page_through(client, experiment_id, None, search_deadline)
        listed = Timed(time.perf_counter() - started, listed_count)
        expect("kiln full listing", listed_count, runs)
    return SearchTimes(create=create, filtered=filtered, listed=listed)
