"""The pipeline DAG's layout: longest-path layers, edges that only point right, few crossings, and
the same picture every time."""

from __future__ import annotations

import pytest

from kiln.ui.dag_layout import NODE_WIDTH, DagLayout, layers, layout

DIAMOND = {"load": [], "clean": ["load"], "features": ["load"], "train": ["clean", "features"]}


def chain(length: int) -> dict[str, list[str]]:
    return {f"s{i}": [f"s{i - 1}"] if i else [] for i in range(length)}


def fan(width: int) -> dict[str, list[str]]:
    spec: dict[str, list[str]] = {"split": []}
    spec.update({f"part{i}": ["split"] for i in range(width)})
    spec["join"] = [f"part{i}" for i in range(width)]
    return spec


def placed(drawing: DagLayout) -> dict[str, tuple[int, int]]:
    return {node.name: (node.x, node.y) for node in drawing.nodes}


class TestLayers:
    def test_a_step_sits_one_layer_after_its_deepest_need(self) -> None:
        spec = {**DIAMOND, "report": ["load", "train"]}
        assert layers(spec) == {"load": 0, "clean": 1, "features": 1, "train": 2, "report": 3}

    def test_independent_steps_all_start_in_the_first_layer(self) -> None:
        assert layers({"a": [], "b": [], "c": ["a"]}) == {"a": 0, "b": 0, "c": 1}

    def test_a_cycle_or_an_unknown_need_is_refused(self) -> None:
        with pytest.raises(ValueError, match="cycle"):
            layers({"a": ["b"], "b": ["a"]})
        with pytest.raises(ValueError, match="'ghost'"):
            layers({"a": ["ghost"]})


class TestLayout:
    @pytest.mark.parametrize("spec", [DIAMOND, chain(100), fan(20), {"a": [], "b": ["a"], "c": ["a", "b"]}])
    def test_no_edge_points_backwards(self, spec: dict[str, list[str]]) -> None:
        drawing = layout(spec)
        at = placed(drawing)
        assert {(edge.source, edge.target) for edge in drawing.edges} == {
            (need, name) for name, needs in spec.items() for need in needs
        }
        for edge in drawing.edges:
            assert at[edge.target][0] > at[edge.source][0]
            xs = [x for x, _ in edge.points]
            assert xs == sorted(xs), f"{edge.source}->{edge.target} turns back"
            assert edge.path.startswith("M")

    def test_every_step_gets_its_own_place_inside_the_drawing(self) -> None:
        drawing = layout(fan(20))
        spots = list(placed(drawing).values())
        assert len(set(spots)) == len(spots) == 22
        for node in drawing.nodes:
            assert 0 <= node.x <= node.x + node.width <= drawing.width
            assert 0 <= node.y <= node.y + node.height <= drawing.height

    def test_a_long_edge_goes_around_the_steps_it_skips(self) -> None:
        # "report" needs "load" directly and through the chain; its edge from load bends past clean/train.
        drawing = layout({"load": [], "clean": ["load"], "train": ["clean"], "report": ["load", "train"]})
        long_edge = next(edge for edge in drawing.edges if (edge.source, edge.target) == ("load", "report"))
        assert len(long_edge.points) == 2 + 2 * 2  # a waypoint in each of the two layers it crosses
        for node in drawing.nodes:
            if node.name in ("clean", "train"):
                inside = [y for x, y in long_edge.points if node.x <= x <= node.x + NODE_WIDTH]
                assert all(not node.y <= y <= node.y + node.height for y in inside)

    def test_the_barycentre_order_untangles_crossed_pairs(self) -> None:
        # Defined so that the definition order crosses both pairs of edges.
        spec = {"a": [], "b": [], "to_b": ["b"], "to_a": ["a"], "end_a": ["to_a"], "end_b": ["to_b"]}
        assert layout(spec).crossings == 0

    def test_the_same_spec_draws_the_same_picture(self) -> None:
        spec = {**fan(7), **{f"x{i}": ["join", f"part{i % 7}"] for i in range(5)}}
        first, second = layout(spec), layout(dict(spec))
        assert first == second
        assert [edge.path for edge in first.edges] == [edge.path for edge in second.edges]

    def test_a_chain_grows_sideways_and_a_fan_out_grows_down(self) -> None:
        long, wide = layout(chain(100)), layout(fan(20))
        assert long.height == layout(chain(1)).height  # one row
        assert wide.width == layout(chain(3)).width  # three layers
