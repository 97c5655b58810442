"""Local admin commands: ``kiln server``, ``kiln serve``, ``kiln db upgrade``. They use core directly."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from kiln.cli.output import console, fail, handle_errors

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


Host = Annotated[str | None, typer.Option(help="Interface to listen on [default: KILN_HOST or 127.0.0.1]")]
Port = Annotated[int | None, typer.Option(help="Port [default: KILN_PORT or 8000]")]
ForwardedAllowIps = Annotated[
    str | None,
    typer.Option(
        help="Addresses of reverse proxies whose X-Forwarded-For/-Proto are trusted, comma-separated "
        "('*' for any) [default: KILN_FORWARDED_ALLOW_IPS or 127.0.0.1]"
    ),
]


def _run(
    factory: str, host: str | None, port: int | None, forwarded_allow_ips: str | None, reload: bool
) -> None:
    import uvicorn

    from kiln.core.settings import Settings

    settings = Settings()
    server = settings.server
    uvicorn.run(
        factory,
        factory=True,
        host=host or server.host,
        port=port or server.port,
        reload=reload,
        log_level=settings.log_level.lower(),
        # Behind a proxy, the client's address (login limits) and scheme come from these headers,
        # but only when the request comes from a trusted proxy.
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips or server.forwarded_allow_ips,
    )


def server(
    host: Host = None,
    port: Port = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    forwarded_allow_ips: ForwardedAllowIps = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run queued jobs in this process too [KILN_WORKER].")
    ] = True,
) -> None:
    """Run the Kiln server (API, docs and UI, and one job worker) with uvicorn."""
    if not worker:
        # The app is built by uvicorn's factory, which reads its settings from the environment.
        os.environ["KILN_WORKER"] = "0"
    _run("kiln.app:create_app", host, port, forwarded_allow_ips, reload)


def serve(host: Host = None, port: Port = None, forwarded_allow_ips: ForwardedAllowIps = None) -> None:
    """Run a serving-only process: predictions, their log and feedback, and deployments' reads.

    It reads deployments from the same database and models from the same store as `kiln server`
    (the same KILN_* settings), and picks up changes made there within KILN_SERVING_POLL_SECONDS.
    No UI, no sign-up, no control-plane writes: run more of these behind a load balancer.
    """
    _run("kiln.app:create_serving_app", host, port, forwarded_allow_ips, reload=False)


@db_app.command("upgrade")
@handle_errors
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the configured database (KILN_DATABASE_URL) to the newest schema."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import SQLAlchemyError

    from kiln.core.db import Database
    from kiln.core.migrate import upgrade_database
    from kiln.core.settings import Settings
    from kiln.models_registry import metadata

    settings = Settings()
    settings.ensure_home()
    db = Database(settings.resolved_database_url)
    try:
        with console.status("Migrating the database..."):
            upgrade_database(db.engine, revision, models=lambda: metadata)
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        where = db.engine.url.render_as_string(hide_password=True)
        console.print(f"Database [bold]{where}[/] is at revision [bold green]{current}[/].")
    except SQLAlchemyError as exc:  # unreachable server, bad credentials: say so without a traceback
        raise fail(f"database error: {getattr(exc, 'orig', None) or exc}") from None
    finally:
        db.dispose()
