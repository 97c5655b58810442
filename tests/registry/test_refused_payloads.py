"""What refuses to load: changed bytes, added or removed files, untrusted pickle and skops types."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from structlog.testing import capture_logs

import kiln
from kiln.core.errors import ChecksumMismatch
from kiln.registry.errors import UntrustedPayload
from kiln.registry.loaded_model import load_model_folder
from kiln.registry.model_folder import write_descriptor
from kiln.registry.model_format import Serialization
from kiln.registry.signature_inference import infer_signature
from tests.registry.predictors import Doubler

X, y = make_classification(n_samples=60, n_features=4, random_state=0)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return kiln.save_model(LogisticRegression().fit(X, y), tmp_path / "model", X=X)


def test_a_changed_byte_is_refused_naming_the_file_and_logged(saved: Path) -> None:
    payload = saved / "model.skops"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))
    with (
        capture_logs() as logs,
        pytest.raises(ChecksumMismatch, match=r"model\.skops does not match") as caught,
    ):
        load_model_folder(saved)
    assert caught.value.details["file"] == "model.skops"
    (event,) = [entry for entry in logs if entry["event"] == "security.checksum_mismatch"]
    assert event["log_level"] == "warning"
    assert event["file"] == "model.skops"
    assert event["expected"] != event["actual"]
    assert event["actual"] == caught.value.details["actual_sha256"]


def test_a_missing_payload_is_refused(saved: Path) -> None:
    (saved / "model.skops").unlink()
    with pytest.raises(ChecksumMismatch, match=r"model\.skops is missing"):
        load_model_folder(saved)


def test_a_file_slipped_into_the_folder_is_refused(saved: Path) -> None:
    (saved / "extra.py").write_text("print('hello')")
    with pytest.raises(ChecksumMismatch, match=r"extra\.py is not part of the model"):
        load_model_folder(saved)


def test_a_symbolic_link_in_the_folder_is_refused(saved: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("secret")
    (saved / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ChecksumMismatch, match="link is a symbolic link"):
        load_model_folder(saved)


def pickled_folder(folder: Path, serialization: Serialization) -> Path:
    folder.mkdir()
    model = LogisticRegression().fit(X, y)
    if serialization is Serialization.joblib:
        joblib.dump(model, folder / "model.joblib")
        payload = "model.joblib"
    else:
        (folder / "model.pkl").write_bytes(pickle.dumps(model))
        payload = "model.pkl"
    write_descriptor(
        folder,
        flavor="sklearn",
        payload=payload,
        serialization=serialization,
        signature=infer_signature(X, model),
    )
    return folder


@pytest.mark.parametrize("serialization", [Serialization.pickle, Serialization.joblib])
def test_pickle_payloads_are_refused_without_trust_and_load_with_it(
    tmp_path: Path, serialization: Serialization
) -> None:
    folder = pickled_folder(tmp_path / "pickled", serialization)
    with pytest.raises(UntrustedPayload) as caught:
        load_model_folder(folder)
    assert caught.value.status_code == 400
    assert "runs whatever code the file contains" in caught.value.message
    assert "KILN_TRUST_PICKLE=1" in caught.value.message
    loaded = load_model_folder(folder, trust_pickle=True)
    assert loaded.predict(X.tolist()).predictions == LogisticRegression().fit(X, y).predict(X).tolist()


def test_skops_refuses_a_type_nobody_trusted_and_names_it(tmp_path: Path) -> None:
    model = make_pipeline(Doubler(), LogisticRegression()).fit(X, y)
    folder = kiln.save_model(model, tmp_path / "custom", X=X)
    with pytest.raises(UntrustedPayload, match=r"tests\.registry\.predictors\.Doubler") as caught:
        load_model_folder(folder)
    assert caught.value.details["untrusted_types"] == ["tests.registry.predictors.Doubler"]
    loaded = load_model_folder(folder, trusted_types=["tests.registry.predictors.Doubler"])
    np.testing.assert_array_equal(loaded.predict(X).predictions, model.predict(X))
