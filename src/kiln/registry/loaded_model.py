"""A model folder loaded for predicting: checksums verified, payload loaded by flavor, inputs checked.

``load_model_folder`` is what the SDK (``kiln.load_model``), the registry's staging gates and the
serving process all call; ``LoadedModel.predict`` takes what a caller naturally has (a DataFrame,
a list of records, a dict of columns), validates it against the signature and answers a
``PredictionResult`` that serving can put on the wire as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from kiln.core.errors import Invalid
from kiln.registry.flavors import PredictionResult, Predictor, load_predictor
from kiln.registry.model_folder import read_descriptor, verify_checksums
from kiln.registry.model_format import ModelDescriptor, Signature
from kiln.registry.numeric_records import NumericRecords
from kiln.registry.signature import ModelInput
from kiln.registry.signature_validation import RecordValidator

__all__ = ["LoadedModel", "PredictionResult", "load_model_folder"]


class LoadedModel:
    """A verified, loaded model: ``descriptor``, ``signature``, ``predict(data)``."""

    def __init__(self, folder: Path, descriptor: ModelDescriptor, predictor: Predictor) -> None:
        self.folder = folder
        self.descriptor = descriptor
        self.predictor = predictor
        # A signature without inputs (a format-1 model saved without X) checks nothing.
        self._validator = RecordValidator(descriptor.signature) if descriptor.signature.inputs else None
        # Clean all-number records take one pass; anything else the validator checks field by field.
        self._numeric = NumericRecords.of(descriptor.signature)

    @property
    def signature(self) -> Signature:
        return self.descriptor.signature

    @property
    def model(self) -> Any:
        """The flavor's own object (the estimator, the onnxruntime session, the python-function instance)."""
        return self.predictor.model

    def validate(self, data: Any) -> ModelInput | Any:
        """``data`` checked against the signature (``ValidationFailed`` naming each bad field)."""
        if self._numeric is not None:
            checked = self._numeric.validate(data)
            if checked is not None:
                return checked
        if self._validator is not None:
            return self._validator.validate(data)
        return _unchecked(data)

    def predict(self, data: Any, *, probabilities: bool = True) -> PredictionResult:
        """Predictions for ``data`` (DataFrame, list of records, dict of columns, one record)."""
        return self.predictor.predict(self.validate(data), probabilities=probabilities)

    def smoke_test(self) -> PredictionResult:
        """A prediction on the descriptor's example input (the staging gate, serving's warm-up)."""
        if self.descriptor.example_input is None:
            raise Invalid("the model has no example input to try a prediction on")
        return self.predict([self.descriptor.example_input])

    def __repr__(self) -> str:
        what = self.descriptor.estimator_class or self.descriptor.flavor
        return f"<LoadedModel {what} from {self.folder}>"


def load_model_folder(
    folder: Path, *, trust_pickle: bool = False, trusted_types: Iterable[str] = ()
) -> LoadedModel:
    """Verify every file of ``folder`` against its descriptor, then load the payload by flavor.

    ``ChecksumMismatch`` when a file changed, is missing or was added; ``UntrustedPayload`` for a
    pickle-family payload without ``trust_pickle`` or a skops type not trusted (``trusted_types``
    adds to Kiln's list); ``Invalid`` when the folder is not a loadable model.
    """
    folder = Path(folder)
    descriptor = read_descriptor(folder)
    verify_checksums(folder, descriptor)
    predictor = load_predictor(folder, descriptor, trust_pickle=trust_pickle, trusted_types=trusted_types)
    return LoadedModel(folder, descriptor, predictor)


def _unchecked(data: Any) -> Any:
    """Data for a model that lists no inputs: records become a DataFrame, arrays and frames stay."""
    if hasattr(data, "iloc") or isinstance(data, np.ndarray):
        return data
    if isinstance(data, dict) and not all(isinstance(value, list | tuple) for value in data.values()):
        data = [data]  # one record
    if isinstance(data, dict) or (isinstance(data, list) and data and isinstance(data[0], dict)):
        try:
            import pandas as pd
        except ImportError:
            raise Invalid(
                "this model lists no inputs: send rows of values, or install pandas for records"
            ) from None
        return pd.DataFrame(data)
    return np.asarray(data)
