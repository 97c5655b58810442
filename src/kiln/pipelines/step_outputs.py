"""A step's output in the artifact store, and back: a DataFrame as Parquet, a scikit-learn model in
the registry's model-folder format, any other value as JSON.

A model is written as the registry writes a version (``model.skops`` plus ``kiln-model.json`` with the
sha256 of every file; ``registry.flavors.save_sklearn_model``), each file an object under
``<output key>.model/``. skops, never pickle: a downstream step loads it by the registry's one door
(``load_predictor``), which refuses pickle-family payloads and builds only trusted types. A model
holding a type skops would refuse (a ``FunctionTransformer``'s function) fails the step that returned
it, naming the types, rather than the step that would have read it.

The descriptor's sha256 stands for the whole output (it lists every file's), so the step cache keys
a model output by it as it keys any other output by its bytes.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from kiln.storage.store import ArtifactStore

PARQUET = "parquet"
JSON = "json"
MODEL = "model"
_DESCRIPTOR = "kiln-model.json"


def load_output(store: ArtifactStore, source: dict[str, Any]) -> Any:
    """An argument's value: the literal it was given, or the stored output it names."""
    if "artifact" not in source:
        return source.get("value")
    stored = source["artifact"]
    if stored["format"] == MODEL:
        return _load_model(store, stored)
    data = store.read_verified(stored["key"], sha256=stored["sha256"], size=stored["size"])
    if stored["format"] == PARQUET:
        import pandas as pd

        return pd.read_parquet(io.BytesIO(data))
    return json.loads(data)


def save_output(store: ArtifactStore, step: str, output_key: str, value: Any) -> dict[str, Any]:
    """Store ``value``; the descriptor the step's row keeps (format, key, sha256, size[, files])."""
    if type(value).__name__ == "DataFrame" and hasattr(value, "to_parquet"):
        buffer = io.BytesIO()
        value.to_parquet(buffer, index=False)
        return _put(store, f"{output_key}.{PARQUET}", PARQUET, buffer.getvalue())
    if is_model(value):
        return _save_model(store, step, f"{output_key}.{MODEL}", value)
    try:
        data = json.dumps(value, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        kind = type(value).__name__
        raise TypeError(
            f"step {step} returned a {kind}: return a DataFrame, a scikit-learn model or a JSON value ({exc})"
        ) from None
    return _put(store, f"{output_key}.{JSON}", JSON, data)


def is_model(value: Any) -> bool:
    """A scikit-learn estimator; scikit-learn is never imported for this (a step returning one has)."""
    base = sys.modules.get("sklearn.base")
    return base is not None and isinstance(value, base.BaseEstimator)


def _put(store: ArtifactStore, key: str, fmt: str, data: bytes) -> dict[str, Any]:
    stored = store.put_bytes(key, data)
    return {"format": fmt, "key": stored.key, "sha256": stored.sha256, "size": stored.size}


def _save_model(store: ArtifactStore, step: str, prefix: str, estimator: Any) -> dict[str, Any]:
    # Imported here: a step returning JSON or a DataFrame pays for neither skops nor the registry.
    from kiln.registry.flavors import save_sklearn_model
    from kiln.registry.flavors.skops_trust import untrusted_types

    with tempfile.TemporaryDirectory(prefix="kiln-step-model-") as workdir:
        folder = Path(workdir) / "model"
        descriptor = save_sklearn_model(estimator, folder)
        refused, _ = untrusted_types(folder / str(descriptor.payload))
        if refused:
            raise TypeError(
                f"step {step} returned a {type(estimator).__name__} holding types skops does not trust "
                f"({', '.join(refused)}): downstream steps could not load it safely; return a model "
                "without them (e.g. no FunctionTransformer of your own function)"
            )
        files = [
            {"path": name, **_put_file(store, folder / name, f"{prefix}/{name}")}
            for name in sorted(descriptor.checksums)
        ]
        head = store.put_bytes(f"{prefix}/{_DESCRIPTOR}", (folder / _DESCRIPTOR).read_bytes())
    return {
        "format": MODEL,
        "key": head.key,
        "sha256": head.sha256,
        "size": head.size,
        "estimator_class": descriptor.estimator_class,
        "files": files,
    }


def _put_file(store: ArtifactStore, path: Path, key: str) -> dict[str, Any]:
    stored = store.put_bytes(key, path.read_bytes())
    return {"sha256": stored.sha256, "size": stored.size}


def _load_model(store: ArtifactStore, stored: dict[str, Any]) -> Any:
    from kiln.registry.flavors import load_predictor
    from kiln.registry.model_folder import read_descriptor, verify_checksums

    prefix = stored["key"].rsplit("/", 1)[0]
    with tempfile.TemporaryDirectory(prefix="kiln-step-model-") as workdir:
        folder = Path(workdir)
        head = store.read_verified(stored["key"], sha256=stored["sha256"], size=stored["size"])
        (folder / _DESCRIPTOR).write_bytes(head)
        for item in stored["files"]:
            data = store.read_verified(f"{prefix}/{item['path']}", sha256=item["sha256"], size=item["size"])
            (folder / Path(item["path"]).name).write_bytes(data)
        descriptor = read_descriptor(folder)
        verify_checksums(folder, descriptor)
        # Never pickle here: a step's model is written with skops, and a payload that says otherwise
        # is refused as the registry refuses it without KILN_TRUST_PICKLE.
        return load_predictor(folder, descriptor, trust_pickle=False).model
