"""A registered model's drift settings (or one version's): the thresholds its drift reports use,
shown as one row for the default and one per feature, with a form that writes them through
``monitoring.drift_settings`` (checked against the signature and audited there) and a button that
drops them so the model's, or Kiln's defaults, apply again.

Form fields are numbered rows (``feature-3-psi``), never feature names: the names come from the
model's signature on the server, on the page and again when the form is read. A feature row left
blank follows the default row; a row with something in it is an override whose blank cells are the
default row's values.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError, ValidationFailed
from kiln.core.permissions import Permission
from kiln.monitoring import drift_settings
from kiln.monitoring.drift_schemas import (
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    DriftMethod,
    DriftThresholds,
    FeatureThresholds,
)
from kiln.monitoring.drift_settings_schemas import DriftSettingsRead
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice, validation_message
from kiln.ui.monitoring.page_params import MonitorsPage
from kiln.ui.page_access import form_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MonitorsForm = Annotated[Actor, Depends(form_require(Permission.monitors_write))]
ModelName = Annotated[str, Path(max_length=256)]
VersionQuery = Annotated[int | None, Query(ge=1, description="one version's settings; none: the model's")]
ProjectQuery = Annotated[str | None, Query(max_length=128)]
LIMITS = ("p_value", "wasserstein", "jensen_shannon", "psi")
NUMBER_LIMIT = 40  # characters of a typed number
DEFAULT_ROW = "default"


def page_href(model: str, version: int | None, project: str | None, *, action: str = "") -> str:
    path = f"/models/{quote(model, safe='')}/drift-settings{action}"
    return url_with(path, version=version, project=project)


def _methods(kind: str) -> list[str]:
    fitting = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
    return [DriftMethod.auto.value, *sorted(method.value for method in fitting)]


def _rows_of(settings: DriftThresholds, kinds: dict[str, str]) -> list[dict[str, Any]]:
    """The current values per feature row (blank where a feature follows the default)."""
    rows = []
    for index, (name, kind) in enumerate(sorted(kinds.items())):
        override = settings.features.get(name)
        values = {"method": ""} if override is None else override.model_dump(mode="json")
        rows.append(
            {
                "index": index,
                "name": name,
                "kind": kind,
                "methods": _methods(kind),
                "values": {
                    key: "" if values.get(key) is None else str(values[key]) for key in ("method", *LIMITS)
                },
                "ignored": name in settings.ignore,
            }
        )
    return rows


def render_drift_settings(
    request: Request,
    actor: Actor,
    model: str,
    *,
    version: int | None = None,
    project: str | None = None,
    form: dict[str, str] | None = None,
    error: FormError | None = None,
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        current: DriftSettingsRead = drift_settings.get_drift_settings(
            session, actor, model, version=version, project=project
        )
        kinds = drift_settings.feature_kinds(session, actor, model, version=version, project=project)
    default = current.thresholds.default.model_dump(mode="json")
    return render(
        request,
        "monitoring/drift_settings.html",
        {
            "section": "models",
            "settings": current,
            "default": {key: str(value) for key, value in default.items()},
            "all_methods": [method.value for method in DriftMethod],
            "rows": _rows_of(current.thresholds, kinds),
            "typed": form,  # what a refused form held, shown again as typed
            "href": page_href(model, version, project),
            "delete_href": page_href(model, version, project, action="/delete"),
            "model_href": url_with(f"/models/{quote(model, safe='')}", project=project),
            "can_write": actor.may(Permission.monitors_write),
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/models/{name}/drift-settings", response_class=HTMLResponse)
def drift_settings_page(
    request: Request,
    actor: MonitorsPage,
    name: ModelName,
    version: VersionQuery = None,
    project: ProjectQuery = None,
) -> HTMLResponse:
    return render_drift_settings(request, actor, name, version=version, project=project)


def _limits(form: FormData, prefix: str) -> dict[str, str]:
    """The typed cells of one row, blanks left out (pydantic reads the numbers and words refusals)."""
    typed = {key: field(form, f"{prefix}-{key}", limit=NUMBER_LIMIT) for key in ("method", *LIMITS)}
    return {key: value for key, value in typed.items() if value}


def _row(row: str, values: dict[str, str]) -> FeatureThresholds:
    """One row's thresholds; a refusal names the row, which pydantic's location would not."""
    try:
        return FeatureThresholds.model_validate(values)
    except ValidationError as exc:
        where = "the default row" if row == DEFAULT_ROW else f"feature {row!r}"
        raise ValidationFailed(f"{where}: {validation_message(exc)}", details={"row": row}) from None


def thresholds_from_form(form: FormData, kinds: dict[str, str]) -> DriftThresholds:
    default = _row(DEFAULT_ROW, _limits(form, DEFAULT_ROW))
    features: dict[str, FeatureThresholds] = {}
    ignore: list[str] = []
    for index, name in enumerate(sorted(kinds)):
        prefix = f"feature-{index}"
        typed = _limits(form, prefix)
        if typed:
            features[name] = _row(name, {**default.model_dump(mode="json"), **typed})
        if field(form, f"{prefix}-ignore", limit=1) == "1":
            ignore.append(name)
    overall = {
        key: value
        for key in ("small_window", "drifted_share")
        if (value := field(form, key, limit=NUMBER_LIMIT))
    }
    return DriftThresholds.model_validate(
        {**overall, "default": default, "features": features, "ignore": ignore}
    )


def _typed(form: FormData) -> dict[str, str]:
    return {key: field(form, key, limit=NUMBER_LIMIT) for key in form if key != "csrf_token"}


@router.post("/models/{name}/drift-settings")
def save_drift_settings(
    request: Request,
    actor: MonitorsForm,
    form: FormDep,
    name: ModelName,
    version: VersionQuery = None,
    project: ProjectQuery = None,
) -> Response:
    try:
        with get_db(request).unit_of_work() as session:
            kinds = drift_settings.feature_kinds(session, actor, name, version=version, project=project)
            data = thresholds_from_form(form, kinds)
            drift_settings.put_drift_settings(session, actor, name, data, version=version, project=project)
    except (KilnError, ValidationError) as exc:
        # Shown on the page again; a model the caller may not see is a 404 when the page renders.
        return render_drift_settings(
            request, actor, name, version=version, project=project, form=_typed(form), error=form_error(exc)
        )
    return redirect_with_notice(page_href(name, version, project), "drift_settings_saved")


@router.post("/models/{name}/drift-settings/delete")
def delete_drift_settings(
    request: Request,
    actor: MonitorsForm,
    form: FormDep,
    name: ModelName,
    version: VersionQuery = None,
    project: ProjectQuery = None,
) -> Response:
    try:
        with get_db(request).unit_of_work() as session:
            drift_settings.delete_drift_settings(session, actor, name, version=version, project=project)
    except KilnError as exc:
        return render_drift_settings(
            request, actor, name, version=version, project=project, error=form_error(exc)
        )
    return redirect_with_notice(page_href(name, version, project), "drift_settings_deleted")
