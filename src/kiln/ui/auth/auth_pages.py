"""Pages before and around login: log in and out, register, confirm an email, reset a forgotten password."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from kiln.auth import password_changes, service
from kiln.auth.config import AuthConfig
from kiln.auth.schemas import RegisterRequest
from kiln.core.deps import get_db
from kiln.core.errors import KilnError, PermissionDenied, ValidationFailed
from kiln.core.security import same
from kiln.notify.deps import get_mailer
from kiln.ui.csrf import (
    CSRF_FAILED,
    CSRF_FIELD,
    FormDep,
    anonymous_form_ok,
    anonymous_token,
    field,
    session_token,
)
from kiln.ui.forms import (
    FormError,
    client_ip,
    form_error,
    notice,
    rate_limits,
    redirect_with_notice,
    throttle,
)
from kiln.ui.page_route import PageRoute
from kiln.ui.session import (
    auth_config,
    authenticate_page,
    end_session,
    safe_next,
    session_id_from_cookies,
    start_session,
)
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FORGOT_PAGE = "auth/forgot_password.html"

RESET_SENT = "If the address has an account, a mail with a link to reset the password is on its way."
CSRF_ERROR = FormError(CSRF_FAILED, 403)
PASSWORDS_DIFFER = FormError("the two passwords are not the same; type the new password twice", 422)


_db = get_db
_mailer = get_mailer


def _form_page(
    request: Request, template: str, context: dict[str, Any], error: FormError | None = None
) -> Response:
    """A pre-login form, with its error if any; its CSRF token is the anonymous one."""
    authenticate_page(request)  # the header shows who is logged in, if anyone
    response = render(
        request,
        template,
        {"section": "", "error": error.message if error else None, "form_token": anonymous_token(request)}
        | context,
        status_code=error.status_code if error else 200,
    )
    if error is not None and error.retry_after:
        response.headers["retry-after"] = str(error.retry_after)
    return response


# -- login and logout --------------------------------------------------------------------------


def _login_page(
    request: Request, *, email: str = "", next_path: str = "", error: FormError | None = None
) -> Response:
    return _form_page(
        request,
        "auth/login.html",
        {
            "section": "login",
            "email": email,
            "next": safe_next(next_path),
            "notice": notice(request),
            "open_registration": auth_config(request).registration == "open",
        },
        error,
    )


@router.get("/login")
def login_form(request: Request, next: str = "", email: str = "") -> Response:
    if authenticate_page(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    with _db(request).unit_of_work() as session:
        if not service.has_users(session):
            # A fresh install: the first visitor sets up the administrator account.
            return RedirectResponse("/register", status_code=303)
    return _login_page(request, email=email[:320], next_path=next)


@router.post("/login")
def login(request: Request, form: FormDep) -> Response:
    email, password = field(form, "email", limit=320), field(form, "password", limit=256)
    next_path = field(form, "next", limit=2000)
    if not anonymous_form_ok(request, form):
        return _login_page(request, email=email, next_path=next_path, error=CSRF_ERROR)
    if not email or not password:
        error = FormError("enter your email and password", 422)
        return _login_page(request, email=email, next_path=next_path, error=error)
    config: AuthConfig = auth_config(request)
    try:
        with (
            rate_limits(request).login_attempt(client_ip(request), email),
            _db(request).unit_of_work() as session,
        ):
            pair, _user = service.login(session, email, password, config=config)
    except KilnError as exc:
        return _login_page(request, email=email, next_path=next_path, error=form_error(exc))
    start_session(request, pair)
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    session_id = session_id_from_cookies(request)
    if session_id is None:
        # Nothing to end (already logged out, or the cookies are gone): show the login page.
        return RedirectResponse("/login", status_code=303)
    if not same(session_token(request, session_id), field(form, CSRF_FIELD, limit=200)):
        raise PermissionDenied(CSRF_FAILED)
    with _db(request).unit_of_work() as session:
        service.end_session(session, session_id)
    end_session(request)
    return redirect_with_notice("/login", "logged_out")


# -- registration and email confirmation ----------------------------------------------------------


def _register_page(
    request: Request,
    *,
    email: str = "",
    name: str = "",
    invite: str = "",
    setup_token: str = "",
    error: FormError | None = None,
) -> Response:
    with _db(request).unit_of_work() as session:
        first = not service.has_users(session)
    config = auth_config(request)
    return _form_page(
        request,
        "auth/register.html",
        {
            "email": email,
            "name": name,
            "invite": invite,
            "setup_token": setup_token,
            "first_user": first,
            "open": first or bool(invite) or config.registration == "open",
        },
        error,
    )


@router.get("/register")
def register_form(request: Request, invite: str = "", email: str = "", setup: str = "") -> Response:
    # ``setup``: the link in the server log carries the setup token, so the form comes pre-filled.
    return _register_page(request, email=email[:320], invite=invite[:256], setup_token=setup[:256])


@router.post("/register")
def register(request: Request, form: FormDep) -> Response:
    email, name = field(form, "email", limit=320), field(form, "name", limit=256)
    invite, setup_token = field(form, "invite", limit=256), field(form, "setup_token", limit=256)
    password, confirm = field(form, "password", limit=256), field(form, "password_confirm", limit=256)

    def again(error: FormError) -> Response:
        return _register_page(
            request, email=email, name=name, invite=invite, setup_token=setup_token, error=error
        )

    if not anonymous_form_ok(request, form):
        return again(CSRF_ERROR)
    if password != confirm:
        return again(PASSWORDS_DIFFER)
    try:
        data = RegisterRequest(
            email=email,
            password=password,
            name=name,
            invite_token=invite or None,
            setup_token=setup_token or None,
        )
    except ValidationError as exc:
        return again(form_error(exc))
    try:
        throttle(request, "register", email)
        with _db(request).unit_of_work() as session:
            user = service.register(session, data, config=auth_config(request), mailer=_mailer(request))
            stored_email = user.email
    except KilnError as exc:
        return again(form_error(exc))
    return RedirectResponse(f"/login?notice=registered&email={quote(stored_email, safe='@')}", 303)


@router.get("/confirm-email")
def confirm_email(request: Request, token: str = "") -> Response:
    # Confirming on GET is what the mailed link is for; the token is single-use and unguessable.
    authenticate_page(request)
    error: KilnError | None = None
    email = ""
    try:
        with _db(request).unit_of_work() as session:
            email = service.confirm_email(session, token[:256]).email
    except KilnError as exc:
        error = exc
    return render(
        request,
        "auth/confirm_email.html",
        {"section": "", "email": email, "error": error.message if error else None},
        status_code=error.status_code if error else 200,
    )


# -- forgotten password -------------------------------------------------------------------------


@router.get("/forgot-password")
def forgot_password_form(request: Request, email: str = "") -> Response:
    return _form_page(request, FORGOT_PAGE, {"email": email[:320], "sent": False})


@router.post("/forgot-password")
def forgot_password(request: Request, form: FormDep) -> Response:
    email = field(form, "email", limit=320)
    if not anonymous_form_ok(request, form):
        return _form_page(request, FORGOT_PAGE, {"email": email, "sent": False}, CSRF_ERROR)
    try:
        throttle(request, "reset", email)
        if email:
            with _db(request).unit_of_work() as session:
                password_changes.request_password_reset(
                    session, email, config=auth_config(request), mailer=_mailer(request)
                )
    except KilnError as exc:
        return _form_page(request, FORGOT_PAGE, {"email": email, "sent": False}, form_error(exc))
    # The same answer whether or not the address has an account.
    return _form_page(request, FORGOT_PAGE, {"email": "", "sent": True, "message": RESET_SENT})


@router.get("/reset-password")
def reset_password_form(request: Request, token: str = "") -> Response:
    error = None if token else FormError("this link has no token; use the link from the mail", 400)
    return _form_page(request, "auth/reset_password.html", {"token": token[:256]}, error)


@router.post("/reset-password")
def reset_password(request: Request, form: FormDep) -> Response:
    token = field(form, "token", limit=256)
    password, confirm = field(form, "password", limit=256), field(form, "password_confirm", limit=256)

    def again(error: FormError) -> Response:
        return _form_page(request, "auth/reset_password.html", {"token": token}, error)

    if not anonymous_form_ok(request, form):
        return again(CSRF_ERROR)
    if password != confirm:
        return again(PASSWORDS_DIFFER)
    if not password:
        return again(FormError("enter a new password", ValidationFailed.status_code))
    revoke_keys = field(form, "revoke_api_keys", limit=8) == "1"
    try:
        throttle(request, "reset")
        with _db(request).unit_of_work() as session:
            password_changes.reset_password(session, token, password, revoke_api_keys=revoke_keys)
    except KilnError as exc:
        return again(form_error(exc))
    return redirect_with_notice("/login", "password_reset")
