"""ONNX models, run by onnxruntime (the optional extra ``kiln[onnx]``).

The graph is handed to onnxruntime as bytes, not as a path: a model that points at external tensor
files cannot make the runtime read files outside the checksummed folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from kiln.core.errors import Invalid
from kiln.registry.flavors.base import PredictionResult, json_list
from kiln.registry.model_folder import library_versions, write_descriptor
from kiln.registry.model_format import DatasetRef, Flavor, ModelDescriptor, Scalar, Serialization, Signature
from kiln.registry.signature import ModelInput

MODEL_FILE = "model.onnx"
_TENSOR_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


def save_onnx_model(
    model: Any,
    folder: Path,
    *,
    signature: Signature,
    example_input: dict[str, Scalar | None] | None = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    training_inputs: Iterable[DatasetRef | dict[str, Any]] = (),
) -> ModelDescriptor:
    """Write ``model.onnx`` (an ``onnx.ModelProto`` or its bytes) and ``kiln-model.json``."""
    data = model if isinstance(model, bytes) else model.SerializeToString()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_bytes(data)
    return write_descriptor(
        folder,
        flavor=Flavor.onnx,
        payload=MODEL_FILE,
        serialization=Serialization.onnx,
        signature=signature,
        example_input=example_input,
        params={str(key): str(value) for key, value in (params or {}).items()},
        metrics=dict(metrics or {}),
        training_inputs=list(training_inputs),
        versions=library_versions("onnx", "onnxruntime"),
    )


class OnnxPredictor:
    def __init__(self, path: Path, signature: Signature) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise Invalid(
                "this is an ONNX model and onnxruntime is not installed: pip install 'kiln[onnx]'"
            ) from None
        try:
            self.model = onnxruntime.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf classes
            raise Invalid(f"{path.name} is not a loadable ONNX model: {exc}") from None
        self.signature = signature
        self._inputs = [
            (node.name, _TENSOR_DTYPES.get(node.type, np.float32)) for node in self.model.get_inputs()
        ]

    def _feed(self, X: Any) -> dict[str, np.ndarray]:
        if not isinstance(X, ModelInput):
            name, dtype = self._inputs[0]
            return {name: np.asarray(X, dtype=dtype)}
        if len(self._inputs) == 1:  # one tensor holding every field, in the signature's order
            name, dtype = self._inputs[0]
            return {name: X.matrix().astype(dtype)}
        columns = dict(zip(X.names, X.columns, strict=True))
        missing = [name for name, _ in self._inputs if name not in columns]
        if missing:
            raise Invalid(f"the ONNX graph takes inputs the signature does not list: {', '.join(missing)}")
        return {name: columns[name].astype(dtype).reshape(-1, 1) for name, dtype in self._inputs}

    def predict(self, X: Any, *, probabilities: bool = True) -> PredictionResult:
        outputs = self.model.run(None, self._feed(X))
        predictions = json_list(np.ravel(outputs[0]))
        spec = self.signature.outputs
        if len(outputs) < 2:
            return PredictionResult(predictions, classes=spec.classes)
        second = outputs[1]
        if spec.kind == "score":
            return PredictionResult(predictions, classes=spec.classes, scores=json_list(np.ravel(second)))
        if not probabilities:
            return PredictionResult(predictions, classes=spec.classes)
        if isinstance(second, list) and second and isinstance(second[0], dict):  # skl2onnx's ZipMap
            classes = list(second[0])
            rows = [[row[key] for key in classes] for row in second]
            return PredictionResult(predictions, classes=json_list(classes), probabilities=json_list(rows))
        return PredictionResult(predictions, classes=spec.classes, probabilities=json_list(second))
