"""Local admin commands: ``kiln server`` and ``kiln db upgrade``. They use core directly, not HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from kiln.cli.output import console, fail, handle_errors

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)


def server(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on [default: KILN_HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: KILN_PORT or 8000]")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Addresses of reverse proxies whose X-Forwarded-For/-Proto are trusted, comma-separated "
            "('*' for any) [default: KILN_FORWARDED_ALLOW_IPS or 127.0.0.1]"
        ),
    ] = None,
) -> None:
    """Run the Kiln server (API, docs and UI) with uvicorn."""
    import uvicorn

    from kiln.core.settings import Settings

    settings = Settings()
    server = settings.server
    uvicorn.run(
        "kiln.app:create_app",
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

    settings = Settings()
    settings.ensure_home()
    db = Database(settings.resolved_database_url)
    try:
        with console.status("Migrating the database..."):
            upgrade_database(db.engine, revision)
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        where = db.engine.url.render_as_string(hide_password=True)
        console.print(f"Database [bold]{where}[/] is at revision [bold green]{current}[/].")
    except SQLAlchemyError as exc:  # unreachable server, bad credentials: say so without a traceback
        raise fail(f"database error: {getattr(exc, 'orig', None) or exc}") from None
    finally:
        db.dispose()
