"""Pages: the projects I belong to (with my role), and one project's members; admins manage both."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from kiln.auth import projects
from kiln.auth.permissions import Role
from kiln.auth.schemas import MemberSet, ProjectCreate
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ProjectsPage = Annotated[Actor, Depends(page_require(Permission.projects_read))]
ProjectsAdminForm = Annotated[Actor, Depends(form_require(Permission.projects_admin))]
PROJECTS_PER_PAGE = 100
_db = get_db


def _projects_page(
    request: Request, actor: Actor, *, error: FormError | None = None, draft: dict[str, str] | None = None
) -> Response:
    params = PageParams(limit=PROJECTS_PER_PAGE, cursor=request.query_params.get("cursor") or None)
    with _db(request).unit_of_work() as session:
        page = projects.list_projects(session, actor, params)
    return render(
        request,
        "auth/projects.html",
        {
            "section": "projects",
            "projects": page.items,
            "next_href": url_with("/projects", cursor=page.next_cursor) if page.next_cursor else None,
            "paged": params.cursor is not None,
            "notice": notice(request),
            "error": error.message if error else None,
            "draft": draft or {},
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/projects")
def project_list(request: Request, actor: ProjectsPage) -> Response:
    return _projects_page(request, actor)


@router.post("/projects")
def create_project(request: Request, actor: ProjectsAdminForm, form: FormDep) -> Response:
    draft = {"name": field(form, "name", limit=200), "description": field(form, "description")}
    try:
        data = ProjectCreate(name=draft["name"], description=draft["description"])
        with _db(request).unit_of_work() as session:
            project_id = projects.create_project(session, actor, data).id
    except (KilnError, ValidationError) as exc:
        return _projects_page(request, actor, error=form_error(exc), draft=draft)
    return redirect_with_notice(f"/projects/{project_id}", "project_created")


def _project_page(
    request: Request, actor: Actor, project_id: str, *, error: FormError | None = None, email: str = ""
) -> Response:
    with _db(request).unit_of_work() as session:
        project = projects.project_read(session, actor, projects.get_project(session, actor, project_id))
        members = projects.list_members(session, actor, project_id)
    context: dict[str, Any] = {
        "section": "projects",
        "project": project,
        "my_role": project.my_role.value if project.my_role else None,
        "members": members,
        "roles": [role.value for role in Role],
        "notice": notice(request),
        "error": error.message if error else None,
        "email": email,
    }
    return render(request, "auth/project.html", context, status_code=error.status_code if error else 200)


@router.get("/projects/{project_id}")
def project_page(request: Request, project_id: str, actor: ProjectsPage) -> Response:
    return _project_page(request, actor, project_id)


@router.post("/projects/{project_id}/members")
def set_member(request: Request, project_id: str, actor: ProjectsAdminForm, form: FormDep) -> Response:
    email, user_id = field(form, "email", limit=320), field(form, "user_id", limit=64)
    try:
        data = MemberSet(email=email or None, user_id=user_id or None, role=field(form, "role", limit=32))
        with _db(request).unit_of_work() as session:
            projects.set_member(session, actor, project_id, data)
    except (KilnError, ValidationError) as exc:
        return _project_page(request, actor, project_id, error=form_error(exc), email=email)
    return redirect_with_notice(f"/projects/{project_id}", "member_saved")


@router.post("/projects/{project_id}/members/{user_id}/remove")
def remove_member(request: Request, project_id: str, user_id: str, actor: ProjectsAdminForm) -> Response:
    try:
        with _db(request).unit_of_work() as session:
            projects.remove_member(session, actor, project_id, user_id)
    except KilnError as exc:
        return _project_page(request, actor, project_id, error=form_error(exc))
    return redirect_with_notice(f"/projects/{project_id}", "member_removed")
