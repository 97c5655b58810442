"""``kiln login`` / ``logout`` / ``projects`` / ``keys``: the caller's own account, over the SDK.

``login`` exchanges a password for a project-scoped API key kept in the user's config (mode 0600);
later commands send it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated

import typer

from kiln.auth.permissions import Role
from kiln.auth.schemas import ProjectRead
from kiln.cli import remote
from kiln.cli.output import console, fail, format_time, handle_errors, new_table
from kiln.cli.remote import Remote
from kiln.client.api import Client
from kiln.client.config import credentials_path, read_credentials, save_credential
from kiln.core.errors import Unauthenticated

projects_app = typer.Typer(help="The projects you belong to.", no_args_is_help=True)
keys_app = typer.Typer(help="Your API keys.", no_args_is_help=True)


def _member_project(projects: list[ProjectRead], wanted: str) -> tuple[ProjectRead, Role]:
    for project in projects:
        if wanted in (project.id, project.name) and project.my_role is not None:
            return project, project.my_role
    raise fail(f"you are not a member of a project {wanted!r}; `kiln projects list` shows yours")


EmailOption = Annotated[str, typer.Option(prompt=True, help="your account's email")]
PasswordOption = Annotated[str, typer.Option(prompt=True, hide_input=True, help="your password")]


@contextmanager
def signed_in(server: Remote, email: str, password: str) -> Iterator[Client]:
    """A client on a short login session, ended on exit: account changes need a person, not a key."""
    with server.client() as anonymous:
        tokens = anonymous.auth.login(email, password)
    with server.client(token=tokens.access_token) as session:
        try:
            yield session
        finally:
            session.auth.logout(tokens.refresh_token)


@handle_errors
def login(
    ctx: typer.Context,
    email: EmailOption,
    password: PasswordOption,
    project: Annotated[str, typer.Option(help="the project the key may act in")] = "default",
    days: Annotated[int, typer.Option(help="days until the key expires")] = 90,
) -> None:
    """Log in and save an API key for this server, scoped to one project at your role there."""
    server = remote.of(ctx)
    # The login session only serves to mint the key.
    with signed_in(server, email, password) as session:
        chosen, role = _member_project(list(session.projects.iter()), project)
        name = f"cli@{socket.gethostname()}"[:128]
        created = session.api_keys.create(name, project_id=chosen.id, role=role, expires_in_days=days)
    save_credential(server.resolved_url, created.key)
    console.print(
        f"logged in to {server.resolved_url} as {email} (project {chosen.name}, role {chosen.my_role})"
    )
    console.print(f"key saved in {credentials_path()}")


@handle_errors
def logout(ctx: typer.Context) -> None:
    """Revoke and forget the key saved for this server."""
    server = remote.of(ctx)
    key = read_credentials().get(server.resolved_url)
    if key is None:
        console.print(f"not logged in to {server.resolved_url}")
        return
    # A key may revoke only itself; one already revoked or expired leaves nothing to revoke.
    with server.client(token=key) as keyed, suppress(Unauthenticated):
        keyed.api_keys.revoke_current()
    save_credential(server.resolved_url, None)
    console.print(f"logged out of {server.resolved_url}")


@projects_app.command("list")
@handle_errors
def list_projects(ctx: typer.Context) -> None:
    """Projects you can see, with your role in each."""
    with remote.client(ctx) as client:
        projects = list(client.projects.iter())
    table = new_table("ID", "Name", "Your role", "Created", "Description", ids=("ID",))
    for project in projects:
        role = project.my_role.value if project.my_role else "—"
        table.add_row(
            project.id, f"[bold]{project.name}[/]", role, format_time(project.created_at), project.description
        )
    console.print(table)


@keys_app.command("list")
@handle_errors
def list_keys(ctx: typer.Context, email: EmailOption, password: PasswordOption) -> None:
    """Your API keys (the secret itself is shown only when a key is made, by `kiln login`).

    Asks for your password: an API key may not see or manage its owner's other keys.
    """
    with signed_in(remote.of(ctx), email, password) as client:
        keys = list(client.api_keys.iter())
    table = new_table(
        "ID", "Name", "Prefix", "Role", "Status", "Project", "Expires", "Last used", "Revoked", ids=("ID",)
    )
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            key.prefix,
            key.role.value,
            key.status,
            key.project_id,
            format_time(key.expires_at),
            format_time(key.last_used_at),
            format_time(key.revoked_at),
        )
    console.print(table)


@keys_app.command("revoke")
@handle_errors
def revoke_key(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="Key id (from `kiln keys list`).")],
    email: EmailOption,
    password: PasswordOption,
) -> None:
    """Revoke one of your API keys: it stops working at once. Asks for your password."""
    with signed_in(remote.of(ctx), email, password) as client:
        revoked = client.api_keys.revoke(key_id)
    console.print(f"Revoked key [bold]{revoked.name}[/] ({revoked.id}).")
