"""The try-it form's POST: the form's values as one record, through the API's own predict path.

An ordinary form POST (CSRF-checked), so it works without JavaScript. The caller needs
``predictions:create`` in the deployment's project, as a private deployment's API caller does. The
record goes to ``kiln.serving.predicting.answer`` with the model this process serves, exactly like
``POST /api/v1/deployments/{name}/predict``: the same signature check and messages (a 422's
messages are shown next to their fields), the same prediction log (the logged-in user is the
caller), the same answer.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.permissions import Permission
from kiln.serving import deployments
from kiln.serving.deps import get_model_cache, get_prediction_logger
from kiln.serving.errors import NotReady
from kiln.serving.model_cache import readiness
from kiln.serving.predicting import answer
from kiln.serving.prediction_record import new_request_id
from kiln.ui.csrf import FormDep
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.serving.deployment_page import Tried, deployment_href, render_deployment_page
from kiln.ui.serving.try_form import field_messages, submitted_record, submitted_values

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TryForm = Annotated[Actor, Depends(form_require(Permission.predictions_create))]
TryPage = Annotated[Actor, Depends(page_require(Permission.deployments_read))]


@router.post("/deployments/{name}/try", response_class=HTMLResponse)
def try_it(request: Request, actor: TryForm, form: FormDep, name: str) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        deployment = deployments.get_deployment(session, actor, name, Permission.predictions_create)
        [read] = deployments.describe(session, [deployment])
    cache = get_model_cache(request)
    route = cache.route(name)
    tried = Tried()
    try:
        if route is None or route.model is None:
            reason = readiness(cache, read).reason if route is None else route.reason
            raise NotReady(f"deployment {name!r} is not ready: {reason}")
        signature = route.model.signature
        tried.values = submitted_values(signature, form)
        record = submitted_record(signature, tried.values)
        tried.answer = answer(
            get_prediction_logger(request), route, actor, new_request_id(), time.perf_counter(), [record]
        )
    except KilnError as exc:
        tried.error = exc.message
        tried.messages = field_messages(exc)
        return render_deployment_page(request, actor, name, tried=tried, status_code=exc.status_code)
    return render_deployment_page(request, actor, name, tried=tried)


@router.get("/deployments/{name}/try", include_in_schema=False)
def try_it_again(actor: TryPage, name: str) -> RedirectResponse:
    """A reloaded or bookmarked answer page: back to the form."""
    return RedirectResponse(f"{deployment_href(name)}#try-it", status_code=303)
