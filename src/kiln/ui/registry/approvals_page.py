"""Pages: the approvals inbox (``/approvals``), one approval (``/approvals/{id}``), and deciding one.

The inbox lists the requests of the caller's projects, pending first by default; decided ones are
one filter away. Approvers get approve and reject forms with a required reason; the requester sees
their own request as waiting for another approver, unless the project allows a single approver.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.core.permissions import Permission
from kiln.notify.deps import get_mailer
from kiln.registry import approvals
from kiln.registry.lifecycle_schemas import ApprovalDecision, ApprovalRead
from kiln.registry.schemas import ApprovalStatus
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ApprovalsPage = Annotated[Actor, Depends(page_require(Permission.models_read))]
DecideForm = Annotated[Actor, Depends(form_require(Permission.models_approve))]
PAGE_SIZE = 50
# The inbox's filter: one status, or every approval.
FILTERS = ("pending", "approved", "rejected", "all")
VERDICTS = {"approve": approvals.approve, "reject": approvals.reject}
NOTICE_FOR = {"approve": "approval_approved", "reject": "approval_rejected"}


def _decision(session: Session, actor: Actor, approval: ApprovalRead) -> str:
    """What the caller may do with ``approval``: ``decide``, ``wait`` (their own), or ``none``."""
    if approval.status is not ApprovalStatus.pending or not actor.may(Permission.models_approve):
        return "none"
    own = approval.requested_by_user_id is not None and approval.requested_by_user_id == actor.user_id
    if own and not approvals.single_approver_allowed(session, approval.project_id):
        return "wait"
    return "decide"


def _rows(session: Session, actor: Actor, items: list[ApprovalRead]) -> list[dict[str, Any]]:
    return [{"approval": item, "decision": _decision(session, actor, item)} for item in items]


@router.get("/approvals")
def inbox(
    request: Request,
    actor: ApprovalsPage,
    status: Annotated[str, Query(max_length=16)] = "pending",
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> Response:
    shown = status if status in FILTERS else "pending"
    page = PageParams(limit=PAGE_SIZE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        found = approvals.list_approvals(
            session, actor, page, status=None if shown == "all" else ApprovalStatus(shown)
        )
        rows = _rows(session, actor, found.items)
    return render(
        request,
        "registry/approvals.html",
        {
            "section": "approvals",
            "rows": rows,
            "status": shown,
            "filters": FILTERS,
            "notice": notice(request),
            "paged": page.cursor is not None,
            "first_href": url_with("/approvals", status=shown),
            "next_href": url_with("/approvals", status=shown, cursor=found.next_cursor)
            if found.next_cursor
            else None,
        },
    )


def render_approval(
    request: Request, actor: Actor, approval_id: str, *, error: FormError | None = None
) -> Response:
    with get_db(request).unit_of_work() as session:
        found = approvals.get_approval(session, actor, approval_id, Permission.models_read)
        read = approvals.read_approval(session, found)
        decision = _decision(session, actor, read)
    return render(
        request,
        "registry/approval.html",
        {
            "section": "approvals",
            "approval": read,
            "decision": decision,
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/approvals/{approval_id}")
def approval_page(
    request: Request, actor: ApprovalsPage, approval_id: Annotated[str, Path(max_length=64)]
) -> Response:
    return render_approval(request, actor, approval_id)


@router.post("/approvals/{approval_id}/{verdict}")
def decide(request: Request, actor: DecideForm, form: FormDep, approval_id: str, verdict: str) -> Response:
    """Approve (the version goes to production, the one there is archived) or reject, with a reason."""
    decide_with = VERDICTS.get(verdict)
    if decide_with is None:
        return render_approval(request, actor, approval_id, error=FormError("approve or reject", 404))
    try:
        data = ApprovalDecision(reason=field(form, "reason", limit=2000))
        with get_db(request).unit_of_work() as session:
            decide_with(session, actor, approval_id, reason=data.reason, mailer=get_mailer(request))
    except ValidationError:
        error = FormError(f"give the reason to {verdict}: it goes on the record with the decision", 422)
        return render_approval(request, actor, approval_id, error=error)
    except KilnError as exc:
        return render_approval(request, actor, approval_id, error=form_error(exc))
    # The inbox's forms come back to the inbox; the detail page's to the approval.
    back = "/approvals" if field(form, "back", limit=8) == "inbox" else f"/approvals/{approval_id}"
    return redirect_with_notice(back, NOTICE_FOR[verdict])
