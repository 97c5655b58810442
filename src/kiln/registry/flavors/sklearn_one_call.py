"""One model call per request: a classifier's classes taken from its ``predict_proba``.

Serving answers both classes and probabilities. Calling ``predict`` and then ``predict_proba`` runs
every step of a pipeline, and scikit-learn's input checks, twice. For the classifiers listed here
``predict`` is the class of highest probability, either by construction (``predict`` itself calls
``predict_proba`` and takes the argmax: trees, forests, histogram boosting, bagging, soft voting,
calibration, k-neighbours) or because ``predict_proba`` is a monotone map of the same decision
values that ``predict`` thresholds (logistic and SGD models, naive Bayes, discriminant analysis,
boosting, multi-layer perceptrons). So one ``predict_proba`` call answers both.

Exact, not approximate: a row whose two highest probabilities are (nearly) tied is a row where
rounding could make the argmax differ from ``predict``'s threshold, so those rows (almost never any)
are asked of ``predict`` itself. Only these exact classes qualify (a subclass may change
``predict``); SVC is left out on purpose (its Platt-scaled probabilities can disagree with its
decision function), and so is anything multi-output or multi-label.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

import numpy as np

# A gap between the two highest probabilities this small asks predict (rounding could decide it).
NEAR_TIE = 1e-9

_ARGMAX_CLASSIFIERS: dict[str, tuple[str, ...]] = {
    "sklearn.linear_model": ("LogisticRegression", "LogisticRegressionCV", "SGDClassifier"),
    "sklearn.naive_bayes": ("GaussianNB", "MultinomialNB", "BernoulliNB", "ComplementNB", "CategoricalNB"),
    "sklearn.tree": ("DecisionTreeClassifier", "ExtraTreeClassifier"),
    "sklearn.ensemble": (
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "HistGradientBoostingClassifier",
        "GradientBoostingClassifier",
        "BaggingClassifier",
        "AdaBoostClassifier",
        "VotingClassifier",
    ),
    "sklearn.neighbors": ("KNeighborsClassifier",),
    "sklearn.discriminant_analysis": ("LinearDiscriminantAnalysis", "QuadraticDiscriminantAnalysis"),
    "sklearn.neural_network": ("MLPClassifier",),
    "sklearn.calibration": ("CalibratedClassifierCV",),
}


@cache
def _argmax_classifier_types() -> frozenset[type]:
    found: set[type] = set()
    for module_name, names in _ARGMAX_CLASSIFIERS.items():
        module = importlib.import_module(module_name)
        found.update(getattr(module, name) for name in names if hasattr(module, name))
    return frozenset(found)


def final_estimator(model: Any) -> Any:
    """The estimator at the end of a (nested) Pipeline: the one whose predict a Pipeline answers."""
    from sklearn.pipeline import Pipeline

    while isinstance(model, Pipeline):
        model = model.steps[-1][1]
    return model


def classes_follow_probabilities(model: Any) -> bool:
    """True when ``model.predict`` is the argmax of ``model.predict_proba`` over ``classes_``."""
    if not callable(getattr(model, "predict_proba", None)):
        return False
    final = final_estimator(model)
    if type(final) not in _argmax_classifier_types():
        return False
    classes = getattr(model, "classes_", None)
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        return False  # multi-output models list one array of classes per output
    binarizer = getattr(final, "_label_binarizer", None)  # MLPClassifier: multi-label has 1-D classes_
    return not str(getattr(binarizer, "y_type_", "")).startswith("multilabel")


def classes_from_probabilities(model: Any, probabilities: np.ndarray, data: Any) -> np.ndarray:
    """``model.predict(data)``, from the probabilities it answered for ``data``: the argmax's class,
    and ``predict`` itself for the rows whose highest probabilities are nearly tied."""
    classes = model.classes_
    predicted: np.ndarray = classes.take(np.argmax(probabilities, axis=1))
    top_two = np.partition(probabilities, -2, axis=1)[:, -2:]
    tied = (top_two[:, 1] - top_two[:, 0]) <= NEAR_TIE
    if tied.any():
        rows = np.flatnonzero(tied)
        subset = data.iloc[rows] if hasattr(data, "iloc") else data[rows]
        predicted[rows] = np.asarray(model.predict(subset))
    return predicted
