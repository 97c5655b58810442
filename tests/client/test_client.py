"""``kiln.Client``: the low-level calls return the API's data, pages and errors."""

from __future__ import annotations

import pytest

import kiln


@pytest.fixture
def five_runs(client: kiln.Client) -> list[str]:
    experiment = client.create_experiment("paged")
    ids = []
    for index in range(5):
        run = client.create_run(experiment.id, name=f"r{index}")
        client.log_batch(run.id, metrics=[{"key": "score", "value": index / 10}])
        ids.append(run.id)
    return ids


def test_search_returns_a_page_and_iter_runs_follows_the_cursor(
    client: kiln.Client, five_runs: list[str]
) -> None:
    page = client.search_runs(experiment="paged", order_by="metrics.score DESC", limit=2)
    assert [run.name for run in page] == ["r4", "r3"]
    assert page.total == 5
    assert page.next_cursor
    following = client.search_runs(
        experiment="paged", order_by="metrics.score DESC", limit=2, cursor=page.next_cursor
    )
    assert [run.name for run in following] == ["r2", "r1"]

    every = list(client.iter_runs(experiment="paged", order_by="metrics.score", page_size=2))
    assert [run.name for run in every] == ["r0", "r1", "r2", "r3", "r4"]
    assert len(list(client.iter_runs(experiment="paged", page_size=2, max_results=3))) == 3


def test_filter_selects_runs(client: kiln.Client, five_runs: list[str]) -> None:
    names = {run.name for run in client.iter_runs(filter="metrics.score >= 0.3")}
    assert names == {"r3", "r4"}


def test_unknown_experiment_name_is_not_found(client: kiln.Client) -> None:
    with pytest.raises(kiln.NotFound, match="nope"):
        client.search_runs(experiment="nope")


def test_get_or_create_experiment_returns_the_existing_one(client: kiln.Client) -> None:
    first = client.get_or_create_experiment("shared")
    assert client.get_or_create_experiment("shared").id == first.id
    with pytest.raises(kiln.Conflict):
        client.create_experiment("shared")
    assert [e.name for e in client.iter_experiments()] == ["shared"]


def test_compare_and_reproduce(client: kiln.Client, five_runs: list[str]) -> None:
    comparison = client.compare_runs(five_runs[:2])
    assert comparison.metric_keys == ["score"]
    assert comparison.best_by_metric == {"score": five_runs[1]}
    reproduction = client.reproduce_run(five_runs[0])
    assert reproduction.experiment == "paged"
    assert reproduction.run_name == "r0"


def test_metric_history_keeps_nan_and_infinity(client: kiln.Client) -> None:
    run = client.create_run(client.create_experiment("odd").id)
    values = [float("nan"), float("inf"), float("-inf"), 1.5]
    client.log_batch(run.id, metrics=[{"key": "x", "value": v, "step": i} for i, v in enumerate(values)])
    points = client.get_metric_history(run.id, "x").points
    assert [str(p.value) for p in points] == ["nan", "inf", "-inf", "1.5"]


def test_a_batch_of_numpy_values_and_mappings_is_stored_as_sent(client: kiln.Client) -> None:
    """What training loops log: numpy scalars, read-only mappings, text that is not ASCII."""
    import types

    import numpy as np

    run = client.create_run(client.create_experiment("numpy").id)
    metrics = [{"key": "loss", "value": np.float32(0.25), "step": np.int64(step)} for step in range(3)]
    metrics.append(types.MappingProxyType({"key": "loss", "value": 2.0**-30, "step": 3}))
    client.log_batch(run.id, metrics=metrics, params=[{"key": "modèle", "value": "forêt"}])
    points = client.get_metric_history(run.id, "loss").points
    assert [(p.step, p.value) for p in points] == [(0, 0.25), (1, 0.25), (2, 0.25), (3, 2.0**-30)]
    assert client.get_run(run.id).params == {"modèle": "forêt"}
