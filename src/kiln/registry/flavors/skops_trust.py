"""Which types of a skops file Kiln lets skops build, decided without skops' scan of scikit-learn.

skops trusts every public scikit-learn estimator by default, and finds them when ``skops.io`` is
first imported: ``sklearn.utils.all_estimators()`` imports every public scikit-learn module (and,
through them, dask, jinja2, YAML...). Profiled in ``kiln serve``: about 0.5 CPU seconds of a start
and 25-30 MB that stayed. A Kiln process (``kiln serve``, ``kiln server``) calls
``defer_estimator_scan()`` at start, and then imports ``skops.io`` with that scan answering
nothing: skops' default list then holds no estimator, and Kiln decides about estimators itself, one
type of the file at a time, by the rule ``all_estimators`` applies (``is_sklearn_estimator``).

The decision is the same whichever way skops was imported (``untrusted_types``): a type is built
only when skops trusts it by default, it is a scikit-learn estimator by that rule, Kiln names it
(``KILN_TRUSTED_TYPES``) or the caller listed it. A process that never calls
``defer_estimator_scan`` (the SDK, a pipeline step running user code) imports skops as usual, so
code of its own that calls ``skops.io.load`` sees skops' usual defaults.
"""

from __future__ import annotations

import importlib
import importlib.abc
import inspect
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

KILN_TRUSTED_TYPES = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn._loss.loss.HalfTweedieLossIdentity",
        "numpy.dtype",
    }
)

# The modules all_estimators leaves out (sklearn.utils.discovery): importing
# sklearn.experimental.enable_* changes scikit-learn, tests and externals are no estimators' home.
_IGNORED_PARTS = frozenset({"tests", "externals", "setup", "conftest", "experimental", "estimator_checks"})
_TYPE_NAME = re.compile(r"sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+")

_scan_deferred = False
_import_lock = threading.Lock()


def defer_estimator_scan() -> None:
    """From now on this process imports ``skops.io`` without its scan (``kiln serve`` and
    ``kiln server`` call it once, before any model loads)."""
    global _scan_deferred
    _scan_deferred = True


def skops_io() -> ModuleType:
    """``skops.io``, imported without the estimator scan when the process asked for that."""
    loaded = sys.modules.get("skops.io")
    if loaded is not None or not _scan_deferred:
        return importlib.import_module("skops.io")
    with _import_lock, _without_pandas():
        import sklearn.utils

        scan = sklearn.utils.all_estimators
        # skops.io._trusted_types calls it once, at its import, through this name.
        sklearn.utils.all_estimators = _no_estimators
        try:
            return importlib.import_module("skops.io")
        finally:
            sklearn.utils.all_estimators = scan


@contextmanager
def _without_pandas() -> Iterator[None]:
    """This thread's imports meanwhile find no pandas (nor pyarrow, which pandas loads).

    ``sklearn.utils.fixes`` imports pandas when it can, at scikit-learn's import, for nothing it
    uses then: a helper that takes pandas as an argument. Everywhere else scikit-learn (and narwhals
    in it) looks for pandas only among the modules already imported, so a model called with a
    matrix never needs it. Measured in ``kiln serve``: about 80 MB and 0.25 CPU seconds. A model
    that needs a DataFrame imports pandas when it builds one; other threads are not affected.
    """
    if "pandas" in sys.modules or "sklearn.utils.fixes" in sys.modules:
        yield
        return
    finder = _NoPandasHere(threading.get_ident())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _NoPandasHere(importlib.abc.MetaPathFinder):
    def __init__(self, thread: int) -> None:
        self.thread = thread

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] == "pandas" and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{fullname} is deferred while scikit-learn loads", name=fullname)
        return None


def _no_estimators(type_filter: Any = None) -> list[tuple[str, type]]:
    return []


def untrusted_types(path: Path, *, trusted: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """The types of the skops file ``path`` that nobody trusts, and every type skops needs listed to
    build the file (the first list, plus the estimators and Kiln's own types trusted here).

    Reads the file's schema only: nothing from it is built or imported (deciding that a type is a
    scikit-learn estimator imports installed scikit-learn modules, never a module the file names
    outside scikit-learn).
    """
    listed = set(skops_io().get_untrusted_types(file=path))
    vouched = KILN_TRUSTED_TYPES | set(trusted)
    refused = sorted(name for name in listed if name not in vouched and not is_sklearn_estimator(name))
    return refused, sorted(listed)


@cache
def is_sklearn_estimator(type_name: str) -> bool:
    """True for the types skops trusts by default as scikit-learn estimators (``all_estimators``):
    a concrete subclass of ``BaseEstimator`` with a public name, that a public scikit-learn module
    (the nearest public one above the class's own module) exports under that name."""
    if _TYPE_NAME.fullmatch(type_name) is None:
        return False
    module_name, _, class_name = type_name.rpartition(".")
    parts = module_name.split(".")
    if class_name.startswith("_") or class_name == "BaseEstimator":
        return False
    public = []
    for part in parts:
        if part.startswith("_") or part in _IGNORED_PARTS:
            break
        public.append(part)
    if any(part in _IGNORED_PARTS for part in parts):
        return False
    from sklearn.base import BaseEstimator

    for depth in range(len(public), 0, -1):
        try:
            module = importlib.import_module(".".join(public[:depth]))
        except Exception:  # no such module, or one that cannot load here: nothing trusted through it
            continue
        try:
            cls = getattr(module, class_name, None)
        except ImportError:  # sklearn.impute's experimental estimators, until enabled
            continue
        if (
            inspect.isclass(cls)
            and f"{cls.__module__}.{cls.__name__}" == type_name
            and issubclass(cls, BaseEstimator)
            and not getattr(cls, "__abstractmethods__", None)
        ):
            return True
    return False
