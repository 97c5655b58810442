"""``kiln.sklearn.autolog()``: a plain ``fit`` records params, training metrics and a skops model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import kiln
import kiln.sklearn


@pytest.fixture(autouse=True)
def autolog(live_url: str) -> Iterator[None]:
    kiln.sklearn.autolog()
    # One BLAS thread: tiny fits on a busy 2-core machine are many times slower with a thread pool.
    with threadpool_limits(limits=1):
        yield
    # Other tests in this process must train without logging to a server that is gone.
    kiln.sklearn.autolog(disable=True)


def only_run(client: kiln.Client, experiment: str = "default") -> kiln.client.api.RunRead:
    runs = list(client.iter_runs(experiment=experiment))
    assert len(runs) == 1
    return runs[0]


def load_model(client: kiln.Client, run_id: str, tmp_path: Path) -> tuple[object, dict[str, object]]:
    folder = client.download_artifacts(run_id, "model", tmp_path)[0].parent
    payload = folder / "model.skops"
    model = skops.io.load(payload, trusted=skops.io.get_untrusted_types(file=payload))
    return model, json.loads((folder / "kiln-model.json").read_text())


class TestClassifier:
    def test_iris_fit_logs_params_metrics_tag_and_a_loadable_model(
        self, client: kiln.Client, tmp_path: Path
    ) -> None:
        X, y = load_iris(return_X_y=True)
        model = LogisticRegression(C=0.5, max_iter=500).fit(X, y)

        run = only_run(client)
        assert run.status == "finished"
        assert run.params["C"] == "0.5"
        assert run.params["max_iter"] == "500"
        assert run.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
        assert run.metrics["training_accuracy"] == pytest.approx(model.score(X, y))
        for key in ("training_precision", "training_recall", "training_f1", "training_log_loss"):
            assert key in run.metrics
        assert 0.9 < run.metrics["training_roc_auc"] <= 1.0
        assert {a.path for a in client.list_artifacts(run.id)} == {
            "model/model.skops",
            "model/kiln-model.json",
            "model/reference-sample.json",
        }

        loaded, descriptor = load_model(client, run.id, tmp_path)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))  # type: ignore[attr-defined]
        assert descriptor["format_version"] == 2
        assert descriptor["flavor"] == "sklearn"
        assert descriptor["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
        signature = descriptor["signature"]
        assert isinstance(signature, dict)
        assert signature["input_kind"] == "tensor"  # a bare array carries no column names
        assert len(signature["inputs"]) == 4
        assert signature["inputs"][0] == {
            "name": "x0",
            "type": "number",
            "required": True,
            "dtype": "float64",
            "description": "",
            "observed_min": pytest.approx(X[:, 0].min()),
            "observed_max": pytest.approx(X[:, 0].max()),
        }
        assert signature["outputs"]["classes"] == [0, 1, 2]
        assert signature["outputs"]["probabilities"] is True
        assert descriptor["metrics"]["training_accuracy"] == pytest.approx(model.score(X, y))  # type: ignore[index]
        assert descriptor["versions"]["sklearn"]  # type: ignore[index]

    def test_dataframe_column_names_and_dtypes_form_the_signature(
        self, client: kiln.Client, tmp_path: Path
    ) -> None:
        pytest.importorskip("pandas")
        X, y = load_iris(return_X_y=True, as_frame=True)
        LogisticRegression(max_iter=500).fit(X, y)
        _, descriptor = load_model(client, only_run(client).id, tmp_path)
        signature = descriptor["signature"]
        assert signature["input_kind"] == "dataframe"  # type: ignore[index]
        assert [(c["name"], c["dtype"]) for c in signature["inputs"]][:2] == [  # type: ignore[index]
            ("sepal length (cm)", "float64"),
            ("sepal width (cm)", "float64"),
        ]

    def test_fit_inside_an_active_run_logs_into_it(self, client: kiln.Client) -> None:
        X, y = load_breast_cancer(return_X_y=True)
        with kiln.start_run(experiment="mine") as run:
            run.log_param("dataset", "breast_cancer")
            Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
            assert kiln.active_run() is run
        stored = client.get_run(run.id)
        assert stored.params["dataset"] == "breast_cancer"
        assert "training_roc_auc" in stored.metrics
        assert len(list(client.iter_runs(experiment="mine"))) == 1

    def test_grid_search_is_one_run_with_the_best_params(self, client: kiln.Client) -> None:
        X, y = load_iris(return_X_y=True)
        search = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=2).fit(X, y)
        run = only_run(client)
        assert run.params["best_C"] == str(search.best_params_["C"])
        assert run.params["estimator__max_iter"] == "500"
        assert run.metrics["best_cv_score"] == pytest.approx(search.best_score_)


class TestRegressor:
    def test_pipeline_on_diabetes_is_one_run_with_regression_metrics(
        self, client: kiln.Client, tmp_path: Path
    ) -> None:
        X, y = load_diabetes(return_X_y=True)
        pipeline = Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=2.0))]).fit(X, y)

        run = only_run(client)  # the steps' own fits are not separate runs
        assert run.tags["estimator_class"] == "sklearn.pipeline.Pipeline"
        assert run.params["ridge__alpha"] == "2.0"
        assert run.metrics["training_r2"] == pytest.approx(pipeline.score(X, y))
        assert run.metrics["training_mse"] > 0
        assert run.metrics["training_mae"] > 0
        loaded, descriptor = load_model(client, run.id, tmp_path)
        np.testing.assert_allclose(loaded.predict(X[:5]), pipeline.predict(X[:5]))  # type: ignore[attr-defined]
        assert len(descriptor["signature"]["inputs"]) == 10  # type: ignore[index]


def test_failing_fit_marks_its_run_failed(client: kiln.Client) -> None:
    with pytest.raises(ValueError, match=r"(?i)nan"):
        LogisticRegression().fit([[float("nan")], [1.0]], [0, 1])
    assert only_run(client).status == "failed"


def test_disabled_autolog_records_nothing(client: kiln.Client) -> None:
    kiln.sklearn.autolog(disable=True)
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=500).fit(X, y)
    assert list(client.iter_runs()) == []
