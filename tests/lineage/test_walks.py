"""Walking the graph: directions, depth limits, the node cap, and the caller's projects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.orm import Session

from kiln.core.errors import NotFound, ValidationFailed
from kiln.lineage import describers, service
from kiln.lineage.schemas import LineageGraph, Node, NodeKind
from tests.builders.lineage import make_chain, make_edge, node

DATASET = node(NodeKind.dataset_version, "customers@3")
RUN = node(NodeKind.run, "run-1")
MODEL = node(NodeKind.model_version, "model-1")
DEPLOYMENT = node(NodeKind.deployment, "deployment-1")
PREDICTION = node(NodeKind.prediction, "prediction-1")


def walk(session: Session, start: Node, **options: Any) -> LineageGraph:
    options.setdefault("visible_projects", None)
    return service.graph(session, start, **options)


def reached(graph: LineageGraph) -> dict[str, int]:
    return {read.id: read.level for read in graph.nodes}


def edge_pairs(graph: LineageGraph) -> set[tuple[str, str]]:
    return {(edge.source.id, edge.target.id) for edge in graph.edges}


@pytest.fixture(autouse=True)
def _model_versions_undescribed(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """These walks run over made-up ids ("model-1"). The registry describes model versions, and rightly
    answers a walk from one that does not exist with a 404 (tests/registry/test_lineage_edges.py walks
    real ones): here, once the app has registered its describers, the kind is left undescribed, so it
    exists where its edges are."""
    monkeypatch.delitem(describers._DESCRIBERS, NodeKind.model_version, raising=False)


@pytest.fixture
def chain(session: Session) -> None:
    """dataset -> run -> model version -> deployment -> prediction, plus a sibling model of the run."""
    make_chain(session, DATASET, RUN, MODEL, DEPLOYMENT, PREDICTION)
    make_edge(session, RUN, node(NodeKind.model_version, "model-2"))


@pytest.mark.usefixtures("chain")
class TestDirections:
    def test_upstream_stops_at_the_depth(self, session: Session) -> None:
        assert reached(walk(session, MODEL, direction="upstream", depth=1)) == {"run-1": -1, "model-1": 0}
        assert reached(walk(session, MODEL, direction="upstream", depth=2)) == {
            "customers@3": -2,
            "run-1": -1,
            "model-1": 0,
        }

    def test_upstream_leaves_out_what_else_came_of_an_ancestor(self, session: Session) -> None:
        graph = walk(session, MODEL, direction="upstream", depth=10)

        assert "model-2" not in reached(graph)
        assert edge_pairs(graph) == {("customers@3", "run-1"), ("run-1", "model-1")}

    def test_downstream_stops_at_the_depth(self, session: Session) -> None:
        assert reached(walk(session, MODEL, direction="downstream", depth=1)) == {
            "model-1": 0,
            "deployment-1": 1,
        }
        assert reached(walk(session, MODEL, direction="downstream", depth=2)) == {
            "model-1": 0,
            "deployment-1": 1,
            "prediction-1": 2,
        }

    def test_both_walks_each_way_from_the_node(self, session: Session) -> None:
        graph = walk(session, MODEL, direction="both", depth=1)

        assert reached(graph) == {"run-1": -1, "model-1": 0, "deployment-1": 1}
        assert edge_pairs(graph) == {("run-1", "model-1"), ("model-1", "deployment-1")}
        assert not graph.truncated

    def test_depth_zero_is_the_node_alone_and_more_than_ten_is_refused(self, session: Session) -> None:
        assert reached(walk(session, MODEL, depth=0)) == {"model-1": 0}
        with pytest.raises(ValidationFailed, match="between 0 and 10"):
            walk(session, MODEL, depth=11)

    def test_a_node_nobody_recorded_is_not_found_by_its_kind_and_id(self, session: Session) -> None:
        with pytest.raises(NotFound, match="dataset version 'orders@1' not found"):
            walk(session, node(NodeKind.dataset_version, "orders@1"))


class TestShapes:
    def test_a_diamond_keeps_both_paths(self, session: Session) -> None:
        left, right = node(NodeKind.run, "left"), node(NodeKind.run, "right")
        make_chain(session, DATASET, left, MODEL)
        make_chain(session, DATASET, right, MODEL)

        graph = walk(session, DATASET, direction="downstream")

        assert reached(graph) == {"customers@3": 0, "left": 1, "right": 1, "model-1": 2}
        assert len(graph.edges) == 4

    def test_one_query_per_level(self, session: Session) -> None:
        make_chain(session, DATASET, RUN, MODEL, DEPLOYMENT, PREDICTION)

        with counted_edge_queries(session) as queries:
            walk(session, DATASET, direction="downstream", depth=4)

        # One to find the start node (no domain describes dataset versions yet), one per level.
        assert len(queries) == 1 + 4


class TestNodeCap:
    def test_a_fan_out_past_the_cap_is_cut_and_says_so(self, session: Session) -> None:
        for index in range(service.MAX_NODES + 100):
            make_edge(session, MODEL, node(NodeKind.prediction, f"p-{index:04d}"), "predicted_by")

        graph = walk(session, MODEL, direction="downstream")

        assert graph.truncated
        assert len(graph.nodes) == service.MAX_NODES
        assert len(graph.edges) == service.MAX_NODES - 1
        # The cut keeps the oldest edges, so the same call answers the same graph.
        assert reached(walk(session, MODEL, direction="downstream")) == reached(graph)

    def test_a_graph_under_the_cap_is_whole(self, session: Session) -> None:
        for index in range(20):
            make_edge(session, MODEL, node(NodeKind.prediction, f"p-{index}"), "predicted_by")

        graph = walk(session, MODEL, direction="downstream")

        assert not graph.truncated
        assert len(graph.nodes) == 21


class TestProjects:
    def test_edges_of_projects_the_caller_cannot_read_are_left_out(self, session: Session) -> None:
        other_run = node(NodeKind.run, "their-run")
        make_edge(session, DATASET, RUN, project_id="project-a")
        make_edge(session, DATASET, other_run, project_id="project-b")
        make_edge(session, other_run, MODEL, project_id="project-b")

        mine = walk(session, DATASET, direction="downstream", visible_projects=frozenset({"project-a"}))
        everything = walk(session, DATASET, direction="downstream", visible_projects=None)

        assert reached(mine) == {"customers@3": 0, "run-1": 1}
        assert set(reached(everything)) == {"customers@3", "run-1", "their-run", "model-1"}

    def test_a_node_only_other_projects_know_is_not_found(self, session: Session) -> None:
        make_edge(session, DATASET, RUN, project_id="project-b")

        with pytest.raises(NotFound, match="dataset version 'customers@3' not found"):
            walk(session, DATASET, visible_projects=frozenset({"project-a"}))
        with pytest.raises(NotFound):
            walk(session, DATASET, visible_projects=frozenset())

    def test_edges_without_a_project_are_for_administrators_only(self, session: Session) -> None:
        make_edge(session, DATASET, RUN, project_id=None)

        assert len(walk(session, DATASET, visible_projects=None).edges) == 1
        with pytest.raises(NotFound):
            walk(session, DATASET, visible_projects=frozenset({"project-a"}))


@contextmanager
def counted_edge_queries(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "lineage_edges" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
