"""Recording edges: idempotent, validated, and removed with their node."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiln.core.errors import Invalid
from kiln.lineage import service
from kiln.lineage.models import LineageEdge
from kiln.lineage.schemas import NodeKind
from tests.builders.lineage import make_chain, make_edge, node

DATASET = node(NodeKind.dataset_version, "customers@3")
RUN = node(NodeKind.run, "run-1")
MODEL = node(NodeKind.model_version, "model-1")


def edge_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LineageEdge)) or 0


class TestRecordEdge:
    def test_recording_the_same_edge_twice_keeps_one_edge_and_its_first_attributes(
        self, session: Session
    ) -> None:
        make_edge(session, DATASET, RUN, "trained_on", attributes={"digest": "sha256:aa"})
        make_edge(session, DATASET, RUN, "trained_on", attributes={"digest": "sha256:bb"})

        edges = list(session.scalars(select(LineageEdge)))
        assert len(edges) == 1
        assert edges[0].attributes == {"digest": "sha256:aa"}
        assert (edges[0].created_by, edges[0].project_id) == ("tester", "project-a")

    def test_another_relation_between_the_same_nodes_is_another_edge(self, session: Session) -> None:
        make_edge(session, DATASET, RUN, "trained_on")
        make_edge(session, DATASET, RUN, "evaluated_on")

        assert edge_count(session) == 2

    def test_an_edge_from_a_node_to_itself_is_refused(self, session: Session) -> None:
        with pytest.raises(Invalid, match="two different nodes"):
            make_edge(session, RUN, RUN)

    @pytest.mark.parametrize("relation", ["", "Trained On", "trained-on", "x" * 65, "1st"])
    def test_a_relation_must_be_a_short_lowercase_name(self, session: Session, relation: str) -> None:
        with pytest.raises(Invalid, match="not a short name"):
            make_edge(session, DATASET, RUN, relation)

    def test_attributes_must_be_small_plain_json(self, session: Session) -> None:
        with pytest.raises(Invalid, match="at most 4096"):
            make_edge(session, DATASET, RUN, attributes={"notes": "x" * 5000})
        with pytest.raises(Invalid, match="plain JSON"):
            make_edge(session, DATASET, RUN, attributes={"score": float("nan")})
        assert edge_count(session) == 0


class TestDeleteEdgesFor:
    def test_removes_the_edges_into_and_out_of_the_node_only(self, session: Session) -> None:
        other = node(NodeKind.run, "run-2")
        make_chain(session, DATASET, RUN, MODEL)
        make_edge(session, DATASET, other)

        removed = service.delete_edges_for(session, RUN)

        assert removed == 2
        left = session.execute(select(LineageEdge.source_id, LineageEdge.target_id)).all()
        assert [tuple(row) for row in left] == [("customers@3", "run-2")]
