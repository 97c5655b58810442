"""What each step of a prediction request costs Kiln in process, by body: no HTTP, no load generator.

    .venv/bin/python -m bench.serving_request_path [--calls 50]

The serving benchmark's model (breast cancer, 30 numeric features) saved and loaded as ``kiln
serve`` loads it, then the steps the predict route and the OIP infer route take after the body has
arrived: parse the body, check it against the signature (``parse``, ``validate``: the general path;
``numeric_read``: an all-number body decoded straight into the checked matrix, which the route tries
first), call the model, build the answer (``all``: the route's whole sequence). Bodies of
1 and 1,000 rows, as records (``{"inputs": [...]}``), as columns (``{"columns": {...}}``) and as OIP
JSON tensors (one ``[rows]`` FP64 input per field). Each figure is the best of 5 rounds of
``--calls`` calls, CPU time in µs per call (``time.process_time``: a busy machine stretches it less
than wall time), printed as ``name: value unit``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import kiln
from bench.serving_model import Trained, dumps, oip_body, train
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.serving.inference_metadata import metadata_from_signature
from kiln.serving.inference_model import model_input, validated
from kiln.serving.inference_protocol import parse_infer_request
from kiln.serving.numeric_body import read_numeric
from kiln.serving.predict_payload import parse_payload


def best_us(call: Callable[[], Any], calls: int) -> float:
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls):
            call()
        rounds.append((time.process_time() - started) / calls)
    return min(rounds) * 1e6


def predict_steps(loaded: LoadedModel, body: bytes) -> dict[str, Callable[[], Any]]:
    data, _, _ = parse_payload(body)
    checked = loaded.validate(data)
    result = loaded.predictor.predict(checked, probabilities=True)

    def everything() -> Any:
        # As the route does: the all-number reader first, the general parse and check if it declines.
        model_input = read_numeric(loaded, body) or loaded.validate(parse_payload(body)[0])
        return orjson.dumps(loaded.predictor.predict(model_input, probabilities=True).to_dict())

    return {
        "parse": lambda: parse_payload(body),
        "validate": lambda: loaded.validate(data),
        "numeric_read": lambda: read_numeric(loaded, body),
        "model": lambda: loaded.predictor.predict(checked, probabilities=True),
        "answer": lambda: orjson.dumps(result.to_dict()),
        "all": everything,
    }


def oip_steps(loaded: LoadedModel, body: bytes) -> dict[str, Callable[[], Any]]:
    metadata = metadata_from_signature("bench", loaded.signature, versions=["1"])
    parsed = parse_infer_request(body, metadata)
    inputs, _ = model_input(metadata, parsed)

    def everything() -> Any:
        tensors, _ = model_input(metadata, parse_infer_request(body, metadata))
        return loaded.predictor.predict(validated(loaded, tensors), probabilities=True)

    return {
        "parse": lambda: parse_infer_request(body, metadata),
        "validate": lambda: validated(loaded, inputs),
        "all_but_answer": everything,
    }


def bodies(trained: Trained, rows: int, loaded: LoadedModel) -> dict[str, bytes]:
    metadata = metadata_from_signature("bench", loaded.signature, versions=["1"])
    document = {"inputs": [spec.document() for spec in metadata.inputs]}
    columns = {name: [row[i] for row in trained.rows(rows)] for i, name in enumerate(trained.features)}
    return {
        "records": dumps({"inputs": trained.records(rows)}),
        "columns": dumps({"columns": columns}),
        "oip": oip_body(trained, rows, document),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    calls = parser.parse_args().calls
    trained = train()
    with tempfile.TemporaryDirectory() as folder:
        kiln.save_model(trained.model, Path(folder) / "model", X=trained.X)
        loaded = load_model_folder(Path(folder) / "model")
    for rows in (1, 1000):
        repeat = calls * (20 if rows == 1 else 1)
        for kind, body in bodies(trained, rows, loaded).items():
            steps = oip_steps(loaded, body) if kind == "oip" else predict_steps(loaded, body)
            for step, call in steps.items():
                print(f"{kind}.rows{rows}.{step}_us: {best_us(call, repeat):.1f} us", flush=True)


if __name__ == "__main__":
    main()
