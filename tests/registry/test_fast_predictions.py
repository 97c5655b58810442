"""A loaded scikit-learn model answers exactly what the estimator itself answers, however Kiln calls it.

Kiln calls a classifier once (``predict_proba``, the classes by argmax) and, when every input is a
number, on a plain matrix rather than a DataFrame; these tests hold it to scikit-learn's own
``predict`` and ``predict_proba`` on the same rows, for several kinds of model, and to no warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import BaggingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import kiln
from kiln.registry.loaded_model import LoadedModel, load_model_folder

pytestmark = pytest.mark.filterwarnings("error")  # a warning per request would flood a server's log

CLASSIFIERS: dict[str, Any] = {
    "scaled logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    "random forest": lambda: RandomForestClassifier(n_estimators=15, random_state=0),
    "histogram boosting": lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0),
    "naive Bayes": GaussianNB,
    "2 nearest neighbours (ties)": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(2)),
    "decision tree": lambda: DecisionTreeClassifier(max_depth=3, random_state=0),
    "perceptron": lambda: make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=50, random_state=0)),
    "modified Huber SGD": lambda: make_pipeline(
        StandardScaler(), SGDClassifier(loss="modified_huber", random_state=0)
    ),
    "calibrated": lambda: CalibratedClassifierCV(GaussianNB(), cv=3),
    "SVC with Platt probabilities": lambda: make_pipeline(
        StandardScaler(), SVC(probability=True, random_state=0)
    ),
    "bagged trees": lambda: BaggingClassifier(DecisionTreeClassifier(max_depth=3), 5, random_state=0),
}


def saved(tmp_path: Path, model: Any, X: Any) -> LoadedModel:
    kiln.save_model(model, tmp_path / "model", X=X)
    return load_model_folder(tmp_path / "model")


def assert_answers_as_sklearn(loaded: LoadedModel, model: Any, X: pd.DataFrame) -> None:
    for rows in (X, X.iloc[:1], X.iloc[7:8]):
        result = loaded.predict(rows.to_dict("records"))
        assert result.predictions == model.predict(rows).tolist()
        np.testing.assert_allclose(result.probabilities, model.predict_proba(rows), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", list(CLASSIFIERS))
@pytest.mark.parametrize("data", ["breast_cancer", "iris"])
def test_classes_and_probabilities_equal_sklearns(tmp_path: Path, kind: str, data: str) -> None:
    loader = load_breast_cancer if data == "breast_cancer" else load_iris
    X, y = loader(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():  # a short training run may not converge: not what is tested
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)  # SVC(probability=True), deprecated in 1.9
        model = CLASSIFIERS[kind]().fit(X, y)
    assert_answers_as_sklearn(saved(tmp_path, model, X), model, X)


def test_a_model_fitted_on_arrays_answers_as_sklearn(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    loaded = saved(tmp_path, model, X)
    names = [spec.name for spec in loaded.signature.inputs]
    result = loaded.predict([dict(zip(names, row, strict=True)) for row in X.tolist()])
    assert result.predictions == model.predict(X).tolist()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_columns_chosen_by_name_and_text_inputs_still_work(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 30.0, 200),
            "channel": rng.choice(["shop", "phone", "web"], 200),
            "age": rng.integers(18, 90, 200),
        }
    )
    y = (X["amount"] > 60).astype(int)
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["amount", "age"]), ("cat", OneHotEncoder(), ["channel"])]
    )
    model = make_pipeline(columns, LogisticRegression()).fit(X, y)
    assert_answers_as_sklearn(saved(tmp_path, model, X), model, X)


def test_only_numbers_by_name_keep_their_frame(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    by_name = ColumnTransformer([("scaled", StandardScaler(), list(X.columns[::-1]))])
    model = make_pipeline(by_name, LogisticRegression(max_iter=1000)).fit(X, y)
    assert_answers_as_sklearn(saved(tmp_path, model, X), model, X)


def test_the_loaded_estimator_keeps_its_feature_names(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    loaded = saved(tmp_path, model, X)
    loaded.predict(X.iloc[:3])
    assert list(loaded.model.feature_names_in_) == list(X.columns)
    assert list(loaded.model.steps[0][1].feature_names_in_) == list(X.columns)


def test_non_finite_inputs_meet_sklearns_own_checks(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    X = X.copy()
    X.iloc[::10, 0] = np.nan  # an optional field: a request may leave it out
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    loaded = saved(tmp_path, model, X)
    row = X.iloc[:1].to_dict("records")[0]
    assert (
        loaded.predict([{**row, "sepal length (cm)": None}]).predictions
        == model.predict(X.iloc[:1].assign(**{"sepal length (cm)": np.nan})).tolist()
    )
