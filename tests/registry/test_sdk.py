"""The SDK against a live server: register a fitted estimator, load it back, predict the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI

import kiln
from tests.builders.registry import fitted_forest, transactions
from tests.live_server import serve


@pytest.fixture
def sdk(
    app: FastAPI, admin_token: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[kiln.Client]:
    with serve(app) as url:
        monkeypatch.setenv("KILN_URL", url)
        monkeypatch.setenv("KILN_TOKEN", admin_token)
        monkeypatch.setenv("KILN_MODEL_CACHE", str(tmp_path / "cache"))
        with kiln.Client(url) as client:
            yield client


def test_register_model_and_load_model_round_trip(sdk: kiln.Client) -> None:
    forest, X = fitted_forest()
    version = kiln.register_model(forest, "fraud_detector", X=X, label="1.0.0", description="first")
    assert (version.number, version.label, version.status, version.stage) == (
        1,
        "1.0.0",
        "ready",
        "development",
    )
    assert [field.name for field in version.signature.inputs] == ["amount", "hour", "distance"]

    fresh = transactions(rows=20, seed=7)
    expected = forest.predict(fresh)
    for uri in ["models:/fraud_detector/1", "models:/fraud_detector/1.0.0"]:
        loaded = kiln.load_model(uri)
        result = loaded.predict(fresh.to_dict(orient="records"))
        predictions = getattr(result, "predictions", result)
        assert np.array_equal(np.asarray(predictions), expected), uri


def test_a_cached_model_whose_bytes_changed_is_refused(sdk: kiln.Client, tmp_path: Path) -> None:
    forest, X = fitted_forest()
    version = kiln.register_model(forest, "fraud_detector", X=X)
    kiln.load_model("models:/fraud_detector/1")
    (tmp_path / "cache" / version.id / "model.skops").write_bytes(b"tampered")
    with pytest.raises(kiln.ChecksumMismatch, match=r"model\.skops"):
        kiln.load_model("models:/fraud_detector/1")


def test_the_models_resource_lists_searches_and_downloads(sdk: kiln.Client, tmp_path: Path) -> None:
    forest, X = fitted_forest()
    kiln.register_model(forest, "fraud_detector", X=X, label="1.0.0")
    kiln.register_model(forest, "fraud_detector", X=X, label="1.1.0")
    assert [model.name for model in sdk.models.list()] == ["fraud_detector"]
    assert [v.number for v in sdk.models.versions("fraud_detector")] == [2, 1]
    assert [v.label for v in sdk.models.search("label = '1.1.0'")] == ["1.1.0"]
    folder = sdk.models.download("fraud_detector", "1.0.0", tmp_path / "backup")
    assert sorted(path.name for path in folder.iterdir()) == [
        "example-answer.json",
        "kiln-model.json",
        "model.skops",
        "reference-sample.json",
    ]
    with pytest.raises(kiln.Conflict, match=r"1\.1\.1"):
        kiln.register_model(forest, "fraud_detector", X=X, label="1.1.0")
    with pytest.raises(kiln.NotFound):
        sdk.models.version("fraud_detector", 9)
    with pytest.raises(kiln.Invalid, match="models:/"):
        kiln.load_model("fraud_detector/1")
