"""``client.lineage.get``: the graph around a node, over HTTP, with the SDK's error classes."""

from __future__ import annotations

import pytest

import kiln
from kiln.lineage.schemas import Direction, NodeKind


def test_a_runs_inputs_come_back_as_its_upstream_graph(client: kiln.Client) -> None:
    with kiln.start_run(experiment="lineage-sdk", inputs=[{"name": "customers", "version": "3"}]) as run:
        run.log_input("holdout/2024", version="v1")

    graph = client.lineage.get("run", run.id, direction="upstream", depth=1)
    by_dataset = client.lineage.get(
        NodeKind.dataset_version, "holdout/2024@v1", direction=Direction.downstream
    )

    assert {(node.kind, node.id) for node in graph.nodes} == {
        (NodeKind.run, run.id),
        (NodeKind.dataset_version, "customers@3"),
        (NodeKind.dataset_version, "holdout/2024@v1"),
    }
    assert {edge.relation for edge in graph.edges} == {"trained_on"}
    assert [node.id for node in by_dataset.nodes if node.level == 1] == [run.id]


def test_refusals_are_the_sdk_errors(client: kiln.Client) -> None:
    with pytest.raises(kiln.NotFound, match="run 'nope' not found"):
        client.lineage.get("run", "nope")
    with pytest.raises(kiln.ValidationFailed, match="unknown node kind"):
        client.lineage.get("model", "x")
