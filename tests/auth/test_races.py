"""Things that happen once stay once when two requests race for them.

The first request holds its transaction open; the second reads the same state (as far as committed
data goes) and has to wait for the first's write. Once the first commits, the second must lose:
otherwise a thief racing the owner keeps a refresh-token family of their own, a mailed link works
twice, or two people registering on a fresh install both become administrators.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth import service, tokens
from kiln.auth.config import AuthConfig
from kiln.auth.schemas import RegisterRequest
from kiln.core.errors import Invalid, PermissionDenied
from kiln.notify.email import Mailer
from tests.builders.auth import STRONG_PASSWORD, api, auth_config, make_account, open_session, setup_token
from tests.builders.core import database


def race(app: FastAPI, spend: Callable[[Session], Any]) -> tuple[Any, Any]:
    """``spend`` twice, the second while the first's transaction is still open; both outcomes."""
    db = database(app)
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with db.unit_of_work() as session:
                outcome["second"] = spend(session)
        except Exception as exc:  # the loser may be refused with an error: that is an outcome too
            outcome["second"] = exc

    first_session = db.sessionmaker()
    try:
        first = spend(first_session)
        first_session.flush()
        rival = threading.Thread(target=second)
        rival.start()
        rival.join(timeout=1.0)
        assert rival.is_alive(), "the second spender should be waiting for the first one's write"
        first_session.commit()
    finally:
        first_session.close()
    rival.join(timeout=30)
    assert not rival.is_alive()
    return first, outcome["second"]


def test_one_refresh_token_spent_twice_at_once_yields_one_successor(app: FastAPI) -> None:
    account = make_account(app)
    pair = open_session(app, account)
    config = auth_config(app)
    first, second = race(app, lambda session: tokens.refresh_tokens(session, pair.refresh_token, config))
    assert first is not None
    # The loser is the same browser's other request (within the grace window): it gets the same
    # successor, and the session lives on; nothing is recorded as a reuse.
    assert second is not None
    assert second.refresh_token == first.refresh_token
    for pair_now in (first, second):
        assert api(app, pair_now.access_token).get("/api/v1/me").status_code == 200


def test_one_mailed_link_spent_twice_at_once_works_once(app: FastAPI) -> None:
    account = make_account(app)
    with database(app).unit_of_work() as session:
        token = service.issue_link_token(
            session, "confirm_email", account.email, ttl_seconds=600, user_id=account.id
        )
    first, second = race(app, lambda session: service.confirm_email(session, token).id)
    assert first == account.id
    assert isinstance(second, Invalid)


def test_two_first_registrations_at_once_make_one_admin(app: FastAPI) -> None:
    config: AuthConfig = auth_config(app)
    mailer: Mailer = kiln_state(app).mailer
    emails = iter(["first@example.com", "second@example.com"])

    def register(session: Session) -> str:
        data = RegisterRequest(email=next(emails), password=STRONG_PASSWORD, setup_token=setup_token(app))
        return service.register(session, data, config=config, mailer=mailer).role

    first, second = race(app, register)
    assert first == "admin"
    assert isinstance(second, PermissionDenied)  # by then there is a user: an invitation is needed
