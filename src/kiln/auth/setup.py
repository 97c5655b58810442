"""First run: until an account exists, registering needs a one-time setup token from the server log.

``kiln admin bootstrap`` (local, on the server) needs no token: it writes to the database directly.
"""

from __future__ import annotations

from urllib.parse import urlencode

import structlog

from kiln.auth import service
from kiln.auth.config import AuthConfig
from kiln.core.db import Database

log = structlog.get_logger("kiln.auth")


def announce_setup_token(db: Database, config: AuthConfig) -> str | None:
    """Issue a setup token when there is no account yet and print it to the log; ``None`` otherwise."""
    with db.unit_of_work() as session:
        token = service.issue_setup_token(session)
    if token is not None:
        url = f"{config.public_url.rstrip('/')}/register?{urlencode({'setup': token})}"
        # WARNING, so it shows at the default and quieter log levels alike.
        log.warning(
            "auth.setup_token",
            message="no account exists yet: open the link to create the administrator",
            setup_token=token,
            register_url=url,
        )
    return token
