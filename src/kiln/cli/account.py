"""``kiln login`` / ``kiln logout``: exchange a password for an API key kept in the user's config (0600)."""

from __future__ import annotations

import socket
from typing import Annotated

import httpx
import typer

from kiln.cli import remote
from kiln.cli.output import console, errors
from kiln.client.config import credentials_path, get_tracking_uri, read_credentials, save_credential


def _url() -> str:
    return (remote.server_url or get_tracking_uri()).rstrip("/")


def _fail(response: httpx.Response) -> typer.Exit:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {response.status_code}"
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def login(
    email: Annotated[str, typer.Option(prompt=True, help="your account's email")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="your password")],
    project: Annotated[str, typer.Option(help="the project the key may act in")] = "default",
    days: Annotated[int, typer.Option(help="days until the key expires")] = 90,
) -> None:
    """Log in and save an API key for this server, scoped to one project at your role there."""
    url = _url()
    with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
        answer = http.post("/auth/login", json={"email": email, "password": password})
        if answer.status_code != 200:
            raise _fail(answer)
        tokens = answer.json()
        http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        projects = http.get("/projects")
        if projects.status_code != 200:
            raise _fail(projects)
        match = [p for p in projects.json() if project in (p["id"], p["name"])]
        if not match:
            errors.print(f"[red]error:[/red] you are not a member of a project {project!r}")
            raise typer.Exit(1)
        body = {
            "name": f"cli@{socket.gethostname()}"[:128],
            "project_id": match[0]["id"],
            "role": match[0]["my_role"],
            "expires_in_days": days,
        }
        created = http.post("/me/api-keys", json=body)
        if created.status_code != 201:
            raise _fail(created)
        # The login session only served to mint the key; end it.
        http.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    save_credential(url, created.json()["key"])
    console.print(f"logged in to {url} as {email} (project {match[0]['name']}, role {match[0]['my_role']})")
    console.print(f"key saved in {credentials_path()}")


def logout() -> None:
    """Revoke and forget the key saved for this server."""
    url = _url()
    key = read_credentials().get(url)
    if key is None:
        console.print(f"not logged in to {url}")
        return
    with httpx.Client(
        base_url=f"{url}/api/v1", timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        # A key may revoke only itself (it cannot list its owner's keys).
        http.delete("/me/api-keys/current")
    save_credential(url, None)
    console.print(f"logged out of {url}")
