"""``kiln admin``: operator commands that act on the database directly (first admin, break-glass keys)."""

from __future__ import annotations

import os
import secrets
import shlex
from typing import Annotated

import typer
from rich.console import Console

from kiln.core.errors import KilnError
from kiln.core.settings import get_settings

admin_app = typer.Typer(help="Operator commands on the local database.", no_args_is_help=True)
err = Console(stderr=True)


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
    from kiln.core.db import Database
    from kiln.core.migrate import upgrade_database

    settings = get_settings()
    db = Database(settings.resolved_database_url)
    upgrade_database(db.engine)
    try:
        with db.unit_of_work() as session:
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
    except KilnError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    if print_env:
        typer.echo(f"export KILN_TOKEN={shlex.quote(secret)}")
    else:
        err.print(f"API key for project {project!r} (shown once): [bold]{secret}[/bold]")
