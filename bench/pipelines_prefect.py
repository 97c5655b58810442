"""Prefect's side of the pipelines benchmark, run in its own venv (``.bench-venv-prefect``).

    python bench/pipelines_prefect.py warm --repeats 3       # chains of 20 and 100, a fan-out of 20
    python bench/pipelines_prefect.py dask --width 20        # the fan-out on a LocalCluster (DaskTaskRunner)
    python bench/pipelines_prefect.py first                  # one chain of 20: a fresh process's first run

It prints one JSON object on its last line. The flows have the shapes of ``bench/pipeline_steps.py``:
no-op tasks chained (each handed the previous one's result) or fanned out. After each flow run
returns, its task runs are counted through Prefect's client at once, then again after a second, so
records written late (Prefect sends task-run states as events) show as such. Imports neither Kiln
nor the benchmark package: this venv has only Prefect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any
from uuid import UUID

from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import TaskRunSort


@task
def noop(previous: int | None = None) -> int:
    return 0 if previous is None else previous + 1


@flow(name="chain")
def chain(steps: int) -> int:
    value = noop(None)
    for _ in range(steps - 1):
        value = noop(value)
    return value


@flow(name="fan_out")
def fan_out(width: int) -> list[int]:
    return [future.result() for future in [noop.submit(index) for index in range(width)]]


async def _count(flow_run_id: UUID) -> int:
    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
    return sum(1 for run in runs if run.state is not None and run.state.is_completed())


def timed(function: Any, *args: Any, expected: int) -> dict[str, Any]:
    started = time.perf_counter()
    state = function(*args, return_state=True)
    wall = time.perf_counter() - started
    if not state.is_completed():
        raise RuntimeError(f"{function.name} ended {state.type}: {state.message}")
    flow_run_id = state.state_details.flow_run_id
    at_return = asyncio.run(_count(flow_run_id))
    time.sleep(1.0)
    later = asyncio.run(_count(flow_run_id))
    return {"wall_s": wall, "tasks_at_return": at_return, "tasks_after_1s": later, "expected": expected}


def warm(repeats: int) -> dict[str, Any]:
    chain(2)  # the process's first flow run is the "first" mode's business, not these figures
    results: dict[str, list[dict[str, Any]]] = {"chain_20": [], "chain_100": [], "fan_out_20": []}
    for _ in range(repeats):
        results["chain_20"].append(timed(chain, 20, expected=20))
        results["chain_100"].append(timed(chain, 100, expected=100))
        results["fan_out_20"].append(timed(fan_out, 20, expected=20))
    return results


def dask(width: int, repeats: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        runner_flow = fan_out.with_options(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
        raw: list[float] = []
        prefect: list[dict[str, Any]] = []
        client.gather(client.map(noop.fn, range(width), pure=False))  # workers warm for both
        runner_flow(width)
        for _ in range(repeats):
            started = time.perf_counter()
            client.gather(client.map(noop.fn, range(width), pure=False))
            raw.append(time.perf_counter() - started)
            prefect.append(timed(runner_flow, width, expected=width))
    return {"raw_dask_s": raw, "prefect_dask": prefect}


def first() -> dict[str, Any]:
    return {"chain_20": timed(chain, 20, expected=20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["warm", "dask", "first"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--width", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.mode == "warm":
        result = warm(args.repeats)
    elif args.mode == "dask":
        result = dask(args.width, args.repeats)
    else:
        result = first()
    result["process_s"] = time.perf_counter() - started
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
