"""pickle, joblib and cloudpickle payloads: refused unless the caller trusts them explicitly.

Unpickling is running a program: the file names functions to call while it loads, so a model file
from someone else can do anything the loading process can. Kiln refuses such payloads unless the
operator says they trust where they come from (``KILN_TRUST_PICKLE=1`` on the server, or
``trust_pickle=True`` when loading by hand). skops and ONNX store models without this hazard.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from kiln.core.errors import Invalid
from kiln.registry.errors import UntrustedPayload
from kiln.registry.model_format import Serialization

TRUST_SETTING = "KILN_TRUST_PICKLE=1"


def refuse_pickle(payload: str, serialization: Serialization) -> UntrustedPayload:
    return UntrustedPayload(
        f"{payload} is a {serialization} payload, and loading {serialization} runs whatever code the file "
        f"contains, so Kiln refuses it. Save the model with skops (kiln.save_model) or as ONNX instead; "
        f"if you trust where this file came from, set {TRUST_SETTING} (or load with trust_pickle=True)",
        details={"file": payload, "serialization": str(serialization), "setting": "KILN_TRUST_PICKLE"},
    )


def load_pickled(path: Path, serialization: Serialization) -> Any:
    """Unpickle a payload the caller has chosen to trust."""
    try:
        if serialization is Serialization.joblib:
            import joblib

            return joblib.load(path)
        if serialization is Serialization.cloudpickle:
            import cloudpickle  # its payloads call back into cloudpickle while they load

            del cloudpickle
        with path.open("rb") as handle:
            return pickle.load(handle)  # trusted explicitly by the operator (see above)
    except ImportError as exc:
        raise Invalid(f"{path.name} needs {exc.name} to load, which is not installed here") from None
    except Exception as exc:
        raise Invalid(f"{path.name} could not be unpickled: {type(exc).__name__}: {exc}") from None
