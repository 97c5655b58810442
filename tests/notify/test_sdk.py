"""``client.notifications`` against a real server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

import kiln
from kiln.auth.permissions import Role
from tests.builders.auth import access_token, make_member
from tests.builders.notify import ROLLED_BACK, send
from tests.live_server import serve


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_list_count_mark_read_and_settings_through_the_sdk(app: FastAPI, live_url: str) -> None:
    ada, bob = make_member(app, Role.viewer), make_member(app, Role.viewer)
    send(app, [ada], title="fraud_detector v3 is in staging", link="/models/fraud_detector")
    send(app, [ada], kind=ROLLED_BACK, title="fraud_detector rolled back")
    send(app, [bob], title="for bob")

    with kiln.Client(live_url, token=access_token(app, ada)) as client:
        page = client.notifications.list()
        assert [n.title for n in page] == ["fraud_detector rolled back", "fraud_detector v3 is in staging"]
        assert page[1].link == "/models/fraud_detector"
        assert client.notifications.unread_count() == 2

        assert client.notifications.mark_read(page[0].id).read_at is not None
        assert [n.title for n in client.notifications.list(unread=True)] == [
            "fraud_detector v3 is in staging"
        ]
        assert [n.title for n in client.notifications.iter(page_size=1)] == [n.title for n in page]
        assert client.notifications.mark_all_read() == 1
        assert client.notifications.unread_count() == 0

        with kiln.Client(live_url, token=access_token(app, bob)) as as_bob, pytest.raises(kiln.NotFound):
            as_bob.notifications.mark_read(page[0].id)

        settings = client.notifications.update_settings(kiln.NotificationKind.alert_firing, email=False)
        alert = next(s for s in settings if s.kind == "alert.firing")
        assert (alert.in_app, alert.email) == (True, False)
        assert {s.kind: s.email for s in client.notifications.settings()}["alert.firing"] is False
        with pytest.raises(kiln.ValidationFailed, match=r"alert\.firing"):
            client.notifications.update_settings("alert.fired", email=False)
