"""OIP metadata documents, and how a Kiln model signature reads as protocol tensors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kiln.core.errors import Invalid
from kiln.registry.model_format import FieldSpec, FieldType, OutputSpec, Signature
from kiln.serving.inference_protocol import (
    metadata_from_signature,
    model_metadata_document,
    parse_infer_request,
    server_metadata,
)

TELEMETRY = Signature(
    inputs=[
        FieldSpec(name="latency_ms", type=FieldType.number, minimum=0, maximum=10_000),
        FieldSpec(name="retries", type=FieldType.integer),
        FieldSpec(name="cached", type=FieldType.boolean, required=False),
        FieldSpec(name="region", type=FieldType.category, allowed=["eu", "us"]),
        FieldSpec(name="tier", type=FieldType.category, allowed=[1, 2, 3]),
        FieldSpec(name="agent", type=FieldType.string),
    ],
    outputs=OutputSpec(kind="class", classes=["ok", "slow"], probabilities=True),
)
NUMERIC = Signature(
    inputs=[FieldSpec(name="a"), FieldSpec(name="b", type=FieldType.integer)],
    outputs=OutputSpec(kind="value"),
)


class TestServerMetadata:
    def test_advertises_the_binary_tensor_extension(self) -> None:
        document = server_metadata(version="9.9")
        assert document == {"name": "kiln", "version": "9.9", "extensions": ["binary_tensor_data"]}
        json.dumps(document)

    def test_version_defaults_to_kiln_s(self) -> None:
        import kiln

        assert server_metadata()["version"] == kiln.__version__


class TestColumnsLayout:
    def test_one_input_per_field_typed_by_the_field(self) -> None:
        model = metadata_from_signature("fraud", TELEMETRY, versions=["1", "3"], platform="kiln_sklearn")
        document = model_metadata_document(model)
        assert document["name"] == "fraud"
        assert document["versions"] == ["1", "3"]
        assert document["platform"] == "kiln_sklearn"
        assert document["inputs"] == [
            {"name": "latency_ms", "datatype": "FP64", "shape": [-1]},
            {"name": "retries", "datatype": "INT64", "shape": [-1]},
            {"name": "cached", "datatype": "BOOL", "shape": [-1]},
            {"name": "region", "datatype": "BYTES", "shape": [-1]},
            {"name": "tier", "datatype": "INT64", "shape": [-1]},
            {"name": "agent", "datatype": "BYTES", "shape": [-1]},
        ]

    def test_class_prediction_and_probabilities_outputs(self) -> None:
        document = model_metadata_document(metadata_from_signature("fraud", TELEMETRY, versions=["1"]))
        assert document["outputs"] == [
            {"name": "prediction", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]},
        ]

    def test_a_field_that_is_not_required_may_be_left_out_of_a_request(self) -> None:
        model = metadata_from_signature("fraud", TELEMETRY, versions=["1"])
        inputs = [
            {"name": "latency_ms", "datatype": "FP64", "shape": [2], "data": [1.5, 20.0]},
            {"name": "retries", "datatype": "INT64", "shape": [2], "data": [0, 3]},
            {"name": "region", "datatype": "BYTES", "shape": [2], "data": ["eu", "us"]},
            {"name": "tier", "datatype": "INT64", "shape": [2], "data": [1, 2]},
            {"name": "agent", "datatype": "BYTES", "shape": [2], "data": ["curl", "ua"]},
        ]
        parsed = parse_infer_request(json.dumps({"inputs": inputs}).encode(), model)
        assert set(parsed.inputs) == {"latency_ms", "retries", "region", "tier", "agent"}
        assert parsed.inputs["retries"].dtype == np.int64

    @pytest.mark.parametrize(
        ("classes", "datatype"),
        [([0, 1], "INT64"), ([0.5, 1], "FP64"), ([True, False], "BOOL"), (None, "BYTES")],
    )
    def test_class_labels_choose_the_prediction_datatype(self, classes: list[object], datatype: str) -> None:
        signature = Signature(inputs=NUMERIC.inputs, outputs=OutputSpec(kind="class", classes=classes))
        model = metadata_from_signature("m", signature, versions=["1"])
        assert [spec.datatype for spec in model.outputs] == [datatype]

    def test_a_value_or_score_is_fp64(self) -> None:
        model = metadata_from_signature("m", NUMERIC, versions=["1"])
        assert [spec.document() for spec in model.outputs] == [
            {"name": "prediction", "datatype": "FP64", "shape": [-1]}
        ]


class TestMatrixLayout:
    def test_one_fp64_input_of_all_fields(self) -> None:
        model = metadata_from_signature("m", NUMERIC, versions=["1"], layout="matrix")
        assert [spec.document() for spec in model.inputs] == [
            {"name": "input", "datatype": "FP64", "shape": [-1, 2]}
        ]

    def test_text_fields_cannot_be_a_matrix(self) -> None:
        with pytest.raises(Invalid, match="region, agent hold text; use the columns layout"):
            metadata_from_signature("m", TELEMETRY, versions=["1"], layout="matrix")


class TestTensorSignature:
    def test_a_tensor_model_takes_one_input_in_its_dtype(self) -> None:
        signature = Signature(
            input_kind="tensor",
            inputs=[FieldSpec(name=f"x{i}", dtype="float32") for i in range(4)],
        )
        model = metadata_from_signature("onnx", signature, versions=["1"])
        assert [spec.document() for spec in model.inputs] == [
            {"name": "input", "datatype": "FP32", "shape": [-1, 4]}
        ]

    def test_a_tensor_without_fields_takes_any_width(self) -> None:
        model = metadata_from_signature("t", Signature(input_kind="tensor"), versions=["1"])
        assert model.inputs[0].document() == {"name": "input", "datatype": "FP64", "shape": [-1, -1]}

    def test_a_dataframe_without_fields_is_refused(self) -> None:
        with pytest.raises(Invalid, match="declares no inputs"):
            metadata_from_signature("t", Signature(), versions=["1"])
