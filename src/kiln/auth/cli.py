"""``kiln admin``: operator commands that act on the database directly (first admin, break-glass keys)."""

from __future__ import annotations

import os
import secrets
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from kiln.core.errors import KilnError
from kiln.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

admin_app = typer.Typer(help="Operator commands on the local database.", no_args_is_help=True)
err = Console(stderr=True)


@contextmanager
def _local_unit_of_work() -> Iterator[Session]:
    """One transaction on the configured database (upgraded first); a refusal ends the command with
    its message and status 1, and nothing of the transaction is kept."""
    from kiln.core.db import Database
    from kiln.core.migrate import upgrade_database

    db = Database(get_settings().resolved_database_url)
    upgrade_database(db.engine)
    try:
        with db.unit_of_work() as session:
            yield session
    except KilnError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()


@admin_app.command("bootstrap")
def bootstrap(
    email: Annotated[str, typer.Option(help="the admin account's email")] = "admin@example.com",
    project: Annotated[str, typer.Option(help="a project to create for the admin")] = "demo",
    key_name: Annotated[str, typer.Option(help="name of the API key to issue")] = "demo",
    print_env: Annotated[
        bool, typer.Option("--print-env", help="print `export KILN_TOKEN=...` only")
    ] = False,
) -> None:
    """Ensure an admin account and a project exist, and issue an API key for automation.

    The admin's password comes from KILN_ADMIN_PASSWORD, or is generated and printed once.
    """
    # Imported here: `kiln --help` and remote commands should not pay for SQLAlchemy and argon2.
    from kiln.auth import api_keys, projects, service
    from kiln.auth.permissions import Role
    from kiln.auth.schemas import ApiKeyCreate, ProjectCreate, UserCreate
    from kiln.auth.settings import AuthSettings
    from kiln.core.actor import SYSTEM

    with _local_unit_of_work() as session:
        password = os.environ.get("KILN_ADMIN_PASSWORD")
        user = service.find_user_by_email(session, email)
        if user is None:
            password = password or secrets.token_urlsafe(15)
            user = service.create_user(
                session, SYSTEM, UserCreate(email=email, password=password, role=Role.admin)
            )
            err.print(
                f"[bold]Created admin[/bold] {email} with password [bold]{password}[/bold] (shown once)"
            )
        else:
            err.print(f"admin {email} exists; log in with its password (KILN_ADMIN_PASSWORD)")
        found = projects.find_project_by_name(session, project)
        if found is None:
            found = projects.create_project(session, SYSTEM, ProjectCreate(name=project))
        default = projects.ensure_default_project(session)
        for project_id in sorted({found.id, default.id}):
            projects.ensure_member(session, SYSTEM, project_id, user.id, Role.admin.value)
        actor = service.user_actor(user)
        _key, secret = api_keys.create_api_key(
            session,
            actor,
            ApiKeyCreate(name=key_name, project_id=found.id, role=Role.ml_engineer),
            max_days=AuthSettings().api_key_max_days,
        )
    if print_env:
        typer.echo(f"export KILN_TOKEN={shlex.quote(secret)}")
    else:
        err.print(f"API key for project {project!r} (shown once): [bold]{secret}[/bold]")


@admin_app.command("add-user")
def add_user(
    email: Annotated[str, typer.Argument(help="the account's email")],
    project: Annotated[str, typer.Option(help="the project the account joins")] = "demo",
    role: Annotated[str, typer.Option(help="role, globally and in the project")] = "ml_engineer",
    key_name: Annotated[str, typer.Option(help="name of the API key to issue")] = "automation",
    print_env: Annotated[
        str | None,
        typer.Option("--print-env", metavar="VAR", help="print `export VAR=<key>` only"),
    ] = None,
) -> None:
    """Ensure an account exists and is a member of a project, and issue it an API key.

    The password comes from KILN_USER_PASSWORD, or is generated and printed once. For a second
    person on a small install (the demo's reviewer approves what the admin asks to put in production).
    """
    from kiln.auth import api_keys, projects, service
    from kiln.auth.permissions import Role
    from kiln.auth.schemas import ApiKeyCreate, ProjectCreate, UserCreate
    from kiln.auth.settings import AuthSettings
    from kiln.core.actor import SYSTEM

    try:
        chosen = Role(role)
    except ValueError:
        err.print(f"[red]error:[/red] unknown role {role!r}; choose one of {', '.join(Role)}")
        raise typer.Exit(2) from None
    if print_env is not None and not print_env.isidentifier():
        err.print(f"[red]error:[/red] {print_env!r} is not a shell variable name")
        raise typer.Exit(2)
    with _local_unit_of_work() as session:
        user = service.find_user_by_email(session, email)
        if user is None:
            password = os.environ.get("KILN_USER_PASSWORD") or secrets.token_urlsafe(15)
            user = service.create_user(
                session, SYSTEM, UserCreate(email=email, password=password, role=chosen)
            )
            err.print(
                f"[bold]Created[/bold] {email} ({chosen}) with password [bold]{password}[/bold] (shown once)"
            )
        found = projects.find_project_by_name(session, project)
        if found is None:
            found = projects.create_project(session, SYSTEM, ProjectCreate(name=project))
        projects.ensure_member(session, SYSTEM, found.id, user.id, chosen.value)
        _key, secret = api_keys.create_api_key(
            session,
            service.user_actor(user),
            ApiKeyCreate(name=key_name, project_id=found.id, role=chosen),
            max_days=AuthSettings().api_key_max_days,
        )
    if print_env:
        typer.echo(f"export {print_env}={shlex.quote(secret)}")
    else:
        err.print(f"API key for {email} in project {project!r} (shown once): [bold]{secret}[/bold]")
