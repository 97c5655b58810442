"""scikit-learn autologging: every top-level ``fit`` records params, training metrics and the model.

``autolog()`` wraps ``fit`` on every public scikit-learn estimator class (``all_estimators``) and on
the ``BaseEstimator`` subclasses already defined (your own estimators, if imported before the call).
Fits nested inside another fit (a Pipeline's steps, GridSearchCV's candidates) are not logged on
their own: the outer estimator's record covers them. Logging problems never break training: they
become ``KilnAutologWarning``s.
"""

from __future__ import annotations

import functools
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kiln.client import fluent
from kiln.client.run import ActiveRun, exit_status
from kiln.client.sklearn_metrics import training_metrics
from kiln.client.sklearn_model import class_path, save_model
from kiln.core.errors import KilnError
from kiln.tracking.schemas import RunStatus

MAX_PARAM_LENGTH = 6000
_ORIGINAL = "__kiln_autolog_original__"


class KilnAutologWarning(UserWarning):
    """Something could not be logged; the fit itself went through."""


class _Config:
    enabled = False
    log_models = True
    experiment: str | None = None


_config = _Config()
_depth = threading.local()


def _subclasses(root: type) -> Iterator[type]:
    seen: set[type] = set()
    stack = [root]
    while stack:
        children: list[type] = stack.pop().__subclasses__()
        for sub in children:
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def _estimator_classes() -> list[type]:
    from sklearn.base import BaseEstimator
    from sklearn.utils import all_estimators

    classes = {cls for _, cls in all_estimators()}
    classes.update(_subclasses(BaseEstimator))
    return sorted((cls for cls in classes if callable(getattr(cls, "fit", None))), key=class_path)


def autolog(*, log_models: bool = True, experiment: str | None = None, disable: bool = False) -> None:
    """Record every scikit-learn ``fit`` in Kiln.

    Inside an active run (``kiln.start_run``) the fit logs into it; otherwise each fit gets its own
    run in ``experiment`` (default "default"), ended when ``fit`` returns. ``disable=True`` stops it.
    """
    _config.enabled = not disable
    _config.log_models = log_models
    _config.experiment = experiment
    if disable:
        return
    for cls in _estimator_classes():
        fit = cls.fit  # type: ignore[attr-defined]
        if getattr(fit, _ORIGINAL, None) is not None and "fit" in cls.__dict__:
            continue  # this very class is patched already
        original = getattr(fit, _ORIGINAL, fit)
        cls.fit = _patched_fit(original)  # type: ignore[attr-defined]


def _patched_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _config.enabled or getattr(_depth, "value", 0) > 0:
            return original(self, *args, **kwargs)
        return _logged_fit(original, self, args, kwargs)

    setattr(fit, _ORIGINAL, original)
    return fit


def _warn(message: str) -> None:
    warnings.warn(message, KilnAutologWarning, stacklevel=4)


def _end_owned(run: ActiveRun, status: RunStatus) -> None:
    try:
        run.end(status)
    except KilnError as exc:
        _warn(f"kiln autolog: could not end run {run.id} as {status.value}: {exc}")


def _logged_fit(original: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: Any) -> Any:
    run = fluent.active_run()
    owned = run is None
    if run is None:
        try:
            run = fluent.start_run(experiment=_config.experiment)
        except KilnError as exc:
            _warn(f"kiln autolog: could not start a run, fit is not logged: {exc}")
    _depth.value = 1
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException as exc:
        if run is not None and owned:
            _end_owned(run, exit_status(type(exc)))
        raise
    finally:
        _depth.value = 0
    if run is None:
        return result
    try:
        _record(run, estimator, args, kwargs)
    except Exception as exc:  # a logging bug must not cost the user a finished training
        _warn(f"kiln autolog: logging {type(estimator).__name__} failed: {exc!r}")
    finally:
        if owned:
            _end_owned(run, RunStatus.finished)
    return result


def _stringify(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_PARAM_LENGTH else f"{text[: MAX_PARAM_LENGTH - 3]}..."


def _holds_estimator(value: Any, depth: int = 0) -> bool:
    from sklearn.base import BaseEstimator

    if isinstance(value, BaseEstimator):
        return True
    if isinstance(value, list | tuple) and depth < 2:
        return any(_holds_estimator(item, depth + 1) for item in value)
    return False


def estimator_params(estimator: Any) -> dict[str, str]:
    """``get_params(deep=False)``; deep for meta-estimators (Pipeline, GridSearchCV, ensembles)."""
    shallow = estimator.get_params(deep=False)
    nested = any(_holds_estimator(value) for value in shallow.values())
    params = estimator.get_params(deep=True) if nested else shallow
    return {str(key): _stringify(value) for key, value in params.items()}


def _search_results(estimator: Any) -> tuple[dict[str, str], dict[str, float]]:
    """What a hyper-parameter search found: ``best_<param>`` params and its ``best_cv_score``."""
    best_params = getattr(estimator, "best_params_", None)
    if not isinstance(best_params, dict):
        return {}, {}
    params = {f"best_{key}": _stringify(value) for key, value in best_params.items()}
    score = getattr(estimator, "best_score_", None)
    return params, ({"best_cv_score": float(score)} if score is not None else {})


def _fit_data(args: tuple[Any, ...], kwargs: Any) -> tuple[Any, Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y, kwargs.get("sample_weight")


def _record(run: ActiveRun, estimator: Any, args: tuple[Any, ...], kwargs: Any) -> None:
    X, y, sample_weight = _fit_data(args, kwargs)
    params = estimator_params(estimator)
    search_params, search_metrics = _search_results(estimator)
    try:
        run.log_params({**params, **search_params})
    except KilnError as exc:  # e.g. a second fit in the same run with other params: keep going
        _warn(f"kiln autolog: params of {type(estimator).__name__} not logged: {exc}")
    metrics = {**training_metrics(estimator, X, y, sample_weight), **search_metrics}
    try:
        run.set_tag("estimator_class", class_path(estimator))
        run.set_tag("estimator_name", type(estimator).__name__)
        run.log_metrics(metrics)
        if _config.log_models:
            _log_model(run, estimator, X, metrics)
        run.flush()
    except (KilnError, OSError) as exc:
        _warn(f"kiln autolog: could not log {type(estimator).__name__} to run {run.id}: {exc}")


def _log_model(run: ActiveRun, estimator: Any, X: Any, metrics: dict[str, float]) -> None:
    inputs = [item.model_dump() for item in run.info.inputs]
    with tempfile.TemporaryDirectory(prefix="kiln-model-") as tmp:
        try:
            folder = save_model(estimator, Path(tmp) / "model", X=X, metrics=metrics, training_inputs=inputs)
        except Exception as exc:  # skops refuses some exotic objects; the run keeps params and metrics
            _warn(f"kiln autolog: could not save {type(estimator).__name__} with skops: {exc}")
            return
        run.log_artifacts(folder, "model")
