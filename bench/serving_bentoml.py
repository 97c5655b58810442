"""The BentoML service of the serving benchmark: the benchmark's model, one API, one worker.

Runs in its own venv (.bench-venv-bentoml), started by bench/serving_servers.py as
``bentoml serve serving_bentoml:BreastCancer`` from this folder; it imports only what BentoML's venv
has. ``BENCH_MODEL_PATH`` names the joblib file the benchmark wrote. It answers the predicted classes
and their probabilities, as Kiln's predict endpoint does.
"""

from __future__ import annotations

import os
from typing import Any

import bentoml
import joblib
import numpy as np


@bentoml.service(workers=1, traffic={"timeout": 60})
class BreastCancer:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL_PATH"])

    @bentoml.api
    def predict(self, inputs: np.ndarray) -> dict[str, Any]:
        return {
            "predictions": self.model.predict(inputs).tolist(),
            "probabilities": self.model.predict_proba(inputs).tolist(),
        }
