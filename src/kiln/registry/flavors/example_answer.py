"""The model's own answer to its example input, recorded when it is saved (``example-answer.json``).

A model fitted on a DataFrame is served through a twin that takes a plain matrix
(``sklearn_predictor``), once the twin is shown to answer the example input as the model answers it
on a DataFrame. Building that DataFrame is what made a serving process import pandas and pyarrow
(about 80 MB that stay, measured in ``kiln serve``). The process that saves the model has pandas and
the DataFrame anyway: it records the model's answer to the example there, called as a user calls
it, in a file of the model folder (checksummed like every other file, so a changed answer is a
refused folder). A serving process compares the twin's answer with the recorded one, and builds a
DataFrame only when no answer was recorded or they differ. Folders saved before have no such file
and keep the DataFrame proof; an older Kiln ignores the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from kiln.registry.flavors.base import EstimatorPredictor, PredictionResult
from kiln.registry.model_format import ModelDescriptor, Scalar, Signature
from kiln.registry.signature_validation import RecordValidator

ANSWER_FILE = "example-answer.json"
# A handful of numbers per class: anything larger is not a file Kiln wrote.
_MAX_BYTES = 1024 * 1024

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ExampleAnswer:
    """One record and what the model answered to it."""

    example: dict[str, Scalar | None]
    answer: PredictionResult


def write_example_answer(
    folder: Path, estimator: Any, signature: Signature, example: dict[str, Scalar | None] | None
) -> None:
    """Record the model's answer to ``example`` when the model takes a DataFrame (only then does
    serving look for it); a model that cannot answer its example here gets no file."""
    if example is None or signature.input_kind != "dataframe" or not signature.inputs:
        return
    try:
        record = RecordValidator(signature).validate([example])
        answer = EstimatorPredictor(estimator, signature).predict(record)
    except Exception:  # the staging gate's smoke test reports a model that fails its example
        log.debug("registry.example_answer_skipped", exc_info=True)
        return
    content = {"example": example, "answer": answer.to_dict()}
    (folder / ANSWER_FILE).write_text(json.dumps(content))


def read_example_answer(folder: Path, descriptor: ModelDescriptor) -> ExampleAnswer | None:
    """The recorded answer of a (checksum-verified) folder, or None when it has none or it is not
    one Kiln wrote (then serving proves its twin with a DataFrame, as before)."""
    path = folder / ANSWER_FILE
    if ANSWER_FILE not in descriptor.checksums or not path.is_file() or path.stat().st_size > _MAX_BYTES:
        return None
    try:
        content = json.loads(path.read_bytes())
        answer = content["answer"]
        return ExampleAnswer(
            example=dict(content["example"]),
            answer=PredictionResult(
                predictions=list(answer["predictions"]),
                classes=answer.get("classes"),
                probabilities=answer.get("probabilities"),
                scores=answer.get("scores"),
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("registry.example_answer_unreadable", file=ANSWER_FILE)
        return None
