"""Registering pipelines: one spec from Python or YAML, versions by content, diffs, refused graphs."""

from __future__ import annotations

from typing import Any

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.pipelines.yaml_spec import spec_from_yaml
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_account, make_member
from tests.builders.pipelines import register

TRAINING_YAML = """
name: training
description: Make data, validate it, train two candidates in parallel, keep the better one.
parameters:
  rows: {type: int, default: 400, minimum: 10, maximum: 1000000}
  alpha: {type: float, default: 0.5, minimum: 0, maximum: 1}
steps:
  make_data:
    function: examples.pipelines:make_data
    inputs: {rows: {param: rows}}
  validate:
    function: examples.pipelines:validate
    inputs: {data: {step: make_data}}
    retries: 1
    retry_delay: 0.1
  train:
    function: examples.pipelines:train
    inputs: {data: {step: validate}, alpha: {param: alpha}, feature: latency_ms}
  train_2:
    function: examples.pipelines:train
    inputs: {data: {step: validate}, alpha: {param: alpha}, feature: payload_kb}
  pick_best:
    function: examples.pipelines:pick_best
    inputs: {first: {step: train}, second: {step: train_2}}
"""


def _spec(steps: list[dict[str, Any]], name: str = "graph") -> dict[str, Any]:
    return {"name": name, "steps": steps}


def _step(
    name: str, *, needs: list[str] | None = None, function: str = "examples.pipelines:gather"
) -> dict[str, Any]:
    return {"name": name, "function": function, "needs": needs or []}


class TestOneSpec:
    def test_python_and_yaml_compile_to_the_same_spec(self) -> None:
        from_python = examples.training.spec()
        from_yaml = spec_from_yaml(TRAINING_YAML)
        assert from_yaml.model_dump(mode="json") == from_python.model_dump(mode="json")
        assert from_yaml.content_hash() == from_python.content_hash()
        # The call graph is the DAG: the two trainings wait on validate, pick_best on both.
        assert from_python.step("train_2").upstream() == ["validate"]
        assert from_python.step("pick_best").upstream() == ["train", "train_2"]

    def test_both_definitions_register_as_one_version(self, client: TestClient) -> None:
        first = register(client, examples.training)
        assert first.status_code == 201, first.text
        assert first.json()["number"] == 1
        again = register(client, spec_from_yaml(TRAINING_YAML).model_dump(mode="json"))
        assert again.status_code == 200
        assert again.json()["created"] is False
        assert again.json()["number"] == 1


class TestVersions:
    def test_a_changed_definition_is_a_new_version_with_a_diff(self, client: TestClient) -> None:
        register(client, examples.training)
        changed = spec_from_yaml(
            TRAINING_YAML.replace("retries: 1", "retries: 3").replace("default: 400", "default: 800")
        ).model_dump(mode="json")
        changed["steps"].append(
            {"name": "report", "function": "examples.pipelines:gather", "needs": ["pick_best"]}
        )
        response = register(client, changed)
        assert response.status_code == 201
        assert response.json()["number"] == 2
        assert response.json()["content_hash"] != register(client, examples.training).json()["content_hash"]

        history = client.get(f"{API}/pipelines/training/versions").json()
        assert [item["number"] for item in history["items"]] == [3, 2, 1]  # v1's definition again is v3
        diff = client.get(f"{API}/pipelines/training/diff", params={"from": 1, "to": 2}).json()
        assert diff["steps_added"] == ["report"]
        assert diff["steps_removed"] == []
        [validate] = diff["steps_changed"]
        assert validate["name"] == "validate"
        assert validate["changes"] == {"retries": {"before": 1, "after": 3}}
        [rows] = diff["parameters_changed"]
        assert rows["changes"]["default"] == {"before": 400, "after": 800}
        assert client.get(f"{API}/pipelines/training").json()["latest_version"] == 3

    def test_a_version_that_does_not_exist_is_404(self, client: TestClient) -> None:
        register(client, examples.training)
        response = client.get(f"{API}/pipelines/training/diff", params={"from": 1, "to": 9})
        assert response.status_code == 404
        assert "no version 9" in error_of(response)["message"]


class TestRefusedDefinitions:
    @pytest.mark.parametrize(
        ("steps", "named", "message"),
        [
            ([_step("a", needs=["c"]), _step("b", needs=["a"]), _step("c", needs=["b"])], "a", "in a cycle"),
            ([_step("a"), _step("b", needs=["missing"])], "b", "needs 'missing', which is not a step"),
            ([_step("a", function="examples.pipelines:no_such_step")], "a", "cannot be imported"),
            ([_step("a", function="os:system")], "a", "not one the server allows"),
            ([_step("a", function="not a reference")], "a", "must be a reference"),
        ],
    )
    def test_the_message_names_the_step(
        self, client: TestClient, steps: list[dict[str, Any]], named: str, message: str
    ) -> None:
        response = register(client, _spec(steps))
        assert 400 <= response.status_code < 500, response.text
        error = error_of(response)
        assert message in error["message"]
        assert f"step {named}" in error["message"] or f"step {named!r}" in error["message"]
        assert client.get(f"{API}/pipelines").json()["items"] == []

    def test_bad_yaml_is_refused_with_what_to_fix(self) -> None:
        from kiln.pipelines.errors import PipelineDefinitionInvalid

        with pytest.raises(PipelineDefinitionInvalid, match="does not parse"):
            spec_from_yaml("name: [unclosed")
        with pytest.raises(PipelineDefinitionInvalid, match="step 'b' needs 'nowhere'"):
            spec_from_yaml(
                "name: p\nsteps:\n  b: {function: 'examples.pipelines:gather', needs: [nowhere]}\n"
            )


class TestAccess:
    def test_a_data_scientist_runs_but_does_not_define_pipelines(
        self, app: FastAPI, client: TestClient
    ) -> None:
        register(client, examples.fan_out)
        scientist = api(app, access_token(app, make_member(app, Role.data_scientist)))
        assert register(scientist, examples.retrying).status_code == 403
        assert (
            scientist.post(f"{API}/pipelines/fan_out/runs", json={"parameters": {"seconds": 0}}).status_code
            == 201
        )

    def test_a_non_member_is_told_the_pipeline_does_not_exist(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.fan_out)
        outsider = api(app, access_token(app, make_account(app, role=Role.ml_engineer)))
        response = outsider.get(f"{API}/pipelines/fan_out")
        assert response.status_code == 404
        assert outsider.get(f"{API}/pipelines").json()["items"] == []
