"""Apps with settings of the test's choosing (mail server, registration mode, rate limits).

Fixtures here are imported by the conftest files of tests/auth, tests/audit and tests/notify.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from kiln.app import KilnSettings, create_app, kiln_state
from tests.notify.mail_server import MailServer, running_mail_server

BuildApp = Callable[..., FastAPI]


@pytest.fixture
def build_app(settings: KilnSettings) -> Iterator[BuildApp]:
    """``build_app(auth={"registration": "open"}, ...)``: an app on the test database, sections changed."""
    built: list[FastAPI] = []

    def build(**sections: dict[str, Any]) -> FastAPI:
        app = create_app(settings.with_sections(**sections), migrate=False)
        built.append(app)
        return app

    yield build
    for app in built:
        kiln_state(app).mailer.close()
        kiln_state(app).db.dispose()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
def mail_app(build_app: BuildApp, mail_server: MailServer) -> FastAPI:
    """An app that sends its mail to the test's SMTP server."""
    return build_app(smtp={"host": mail_server.host, "port": mail_server.port})
