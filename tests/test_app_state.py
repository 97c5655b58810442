"""Shared resources live on one typed state, started and stopped by the app's lifespan (review P4)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

import kiln
from kiln.app import kiln_state
from tests.auth.apps import build_app, mail_app, mail_server
from tests.builders.auth import api, make_account
from tests.notify.mail_server import MailServer

__all__ = ["build_app", "mail_app", "mail_server"]  # fixtures

SOURCE = Path(kiln.__file__).parent
STATE_READ = re.compile(r"\bapp\.state\.")


def test_only_app_and_deps_modules_read_the_app_state() -> None:
    # Everything else takes a dependency (DatabaseDep, StoreDep, MailerDep, ...) or its getter.
    readers = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if path.name not in ("app.py", "deps.py") and STATE_READ.search(path.read_text())
    )
    assert not readers, f"read the app state through a deps.py dependency instead: {readers}"


def test_stopping_the_app_closes_the_database_pool(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert kiln_state(app).db.engine.pool.checkedin() >= 1
    assert kiln_state(app).db.engine.pool.checkedin() == 0


def test_mail_queued_before_the_app_stops_is_sent_before_it_has_stopped(
    mail_app: FastAPI, mail_server: MailServer
) -> None:
    account = make_account(mail_app)
    with api(mail_app) as client:
        response = client.post("/api/v1/auth/password-reset", json={"email": account.email})
        assert response.status_code == 202
        # Stopping the app waits for the mailer: the mail is out by the time the block ends.
    assert mail_server.inbox.to(account.email), "the reset mail was not sent before the app stopped"
