"""Which skops types Kiln builds: skops' own defaults, decided without skops' scan of scikit-learn.

A Kiln server process imports skops without the scan that lists every scikit-learn estimator, and
decides about estimators itself (``kiln.registry.flavors.skops_trust``); these tests hold that rule
to skops' own list, in a fresh interpreter that imported skops as usual.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils._mocking import CheckingClassifier

import kiln
from kiln.registry.errors import UntrustedPayload
from kiln.registry.flavors.skops_trust import is_sklearn_estimator
from kiln.registry.loaded_model import load_model_folder

X, y = make_classification(n_samples=40, n_features=4, random_state=0)


def test_the_estimators_kiln_trusts_are_the_ones_skops_trusts_by_default() -> None:
    # Every public scikit-learn module imported (as the scan does), then every class found in any
    # module judged: the rule must trust exactly what all_estimators lists, in that same process.
    probe = (
        "import importlib, inspect, pkgutil, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import sklearn\n"
        "from sklearn.utils import all_estimators\n"
        "from kiln.registry.flavors.skops_trust import is_sklearn_estimator\n"
        "found = set()\n"
        "for _, name, _ in pkgutil.walk_packages(sklearn.__path__, prefix='sklearn.'):\n"
        "    skipped = ('tests', 'experimental', 'externals', 'conftest')\n"
        "    if any(part in skipped for part in name.split('.')):\n"
        "        continue\n"
        "    try:\n"
        "        module = importlib.import_module(name)\n"
        "    except ImportError:  # build tools (Cython), optional dependencies\n"
        "        continue\n"
        "    classes = inspect.getmembers(module, inspect.isclass)\n"
        "    found |= {f'{c.__module__}.{c.__name__}' for _, c in classes}\n"
        "listed = {f'{c.__module__}.{c.__name__}' for _, c in all_estimators()}\n"
        "assert len(listed) > 150 and listed <= found, len(listed)\n"
        "trusted = {name for name in found if is_sklearn_estimator(name)}\n"
        "print(sorted(trusted - listed), sorted(listed - trusted))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "[] []"


@pytest.mark.parametrize(
    "name",
    [
        "sklearn.base.BaseEstimator",
        "sklearn.base.ClassifierMixin",  # not an estimator
        "sklearn.utils._mocking.CheckingClassifier",  # an estimator no public module exports
        "sklearn.linear_model._base.LinearModel",  # abstract
        "sklearn.linear_model._logistic.np",  # a module, not a class
        "sklearn.experimental.enable_halving_search_cv.HalvingGridSearchCV",  # importing it changes sklearn
        "builtins.eval",
        "os.system",
        "sklearn.linear_model._logistic.LogisticRegression; import os",
    ],
)
def test_what_is_not_a_public_estimator_is_not_trusted_as_one(name: str) -> None:
    assert not is_sklearn_estimator(name)


def test_public_estimators_are_trusted_under_their_defining_module() -> None:
    assert is_sklearn_estimator("sklearn.linear_model._logistic.LogisticRegression")
    assert is_sklearn_estimator("sklearn.pipeline.Pipeline")
    assert not is_sklearn_estimator("sklearn.linear_model.LogisticRegression")  # not where it is defined


def test_a_scikit_learn_class_skops_does_not_trust_stays_refused(tmp_path: Path) -> None:
    folder = kiln.save_model(CheckingClassifier().fit(X, y), tmp_path / "checking", X=X)
    with pytest.raises(UntrustedPayload, match=r"sklearn\.utils\._mocking\.CheckingClassifier") as caught:
        load_model_folder(folder)
    assert caught.value.details["untrusted_types"] == ["sklearn.utils._mocking.CheckingClassifier"]
    loaded = load_model_folder(folder, trusted_types=["sklearn.utils._mocking.CheckingClassifier"])
    assert isinstance(loaded.model, CheckingClassifier)
    np.testing.assert_array_equal(loaded.model.classes_, [0, 1])
