"""``notify``: who gets an in-app notification and who a mail, by their settings or the kind's
defaults, through the real SMTP server; nothing at all for a change that rolls back."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.core.errors import Invalid
from kiln.notify import service
from kiln.notify.schemas import KINDS, NotificationKind
from tests.builders.auth import Account, access_token, api, make_account
from tests.builders.core import database
from tests.builders.notify import PROMOTED, ROLLED_BACK, recipient, send, stored_count
from tests.notify.mail_server import MailServer

SETTINGS = "/api/v1/me/notification-settings"


def set_channels(app: FastAPI, account: Account, kind: NotificationKind, **channels: bool) -> None:
    with api(app, access_token(app, account)) as client:
        response = client.put(SETTINGS, json=[{"kind": kind.value, **channels}])
        assert response.status_code == 200, response.text


def inbox(app: FastAPI, account: Account) -> list[dict[str, object]]:
    with api(app, access_token(app, account)) as client:
        items: list[dict[str, object]] = client.get("/api/v1/notifications").json()["items"]
        return items


class TestInApp:
    def test_only_recipients_with_in_app_on_get_a_notification(self, app: FastAPI) -> None:
        ada, bob = make_account(app), make_account(app)
        set_channels(app, bob, PROMOTED, in_app=False)

        reached = send(
            app, [ada, bob], title="fraud_detector v3 is in staging", link="/models/fraud_detector"
        )

        assert reached == 1
        [item] = inbox(app, ada)
        assert (item["kind"], item["title"], item["link"]) == (
            "model_version.promoted",
            "fraud_detector v3 is in staging",
            "/models/fraud_detector",
        )
        assert item["read_at"] is None
        assert inbox(app, bob) == []

    def test_the_actor_is_not_told_of_their_own_change_and_nobody_twice(self, app: FastAPI) -> None:
        ada, bob = make_account(app), make_account(app)
        # The registry may list someone as a member and as an approver: one notification.
        reached = send(app, [ada, bob, recipient(bob), ada], exclude_user_id=ada.id)

        assert reached == 1
        assert (stored_count(app, ada.id), stored_count(app, bob.id)) == (0, 1)

    @pytest.mark.parametrize(
        ("kind", "link", "message"),
        [
            ("model_version.exploded", None, "model_version.promoted"),  # the message lists the kinds
            (PROMOTED, "https://evil.example/phish", "path inside Kiln"),
            (PROMOTED, "//evil.example/phish", "path inside Kiln"),
            (PROMOTED, "javascript:alert(1)", "path inside Kiln"),
        ],
    )
    def test_a_bad_kind_or_a_link_out_of_kiln_is_refused_and_nothing_is_stored(
        self, app: FastAPI, kind: str, link: str | None, message: str
    ) -> None:
        ada = make_account(app)
        with pytest.raises(Invalid, match=message):
            send(app, [ada], kind=kind, link=link)
        assert stored_count(app) == 0

    def test_a_title_stays_on_one_line_and_within_its_column(self, app: FastAPI) -> None:
        ada = make_account(app)
        send(app, [ada], title="fraud\r\nBcc: everyone@example.com " + "x" * 300)

        [item] = inbox(app, ada)
        title = str(item["title"])
        assert "\n" not in title
        assert title.startswith("fraud Bcc:")
        assert len(title) == 200
        assert title.endswith("…")


class TestMail:
    def test_kinds_that_mail_by_default_mail_with_an_absolute_link(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        ada = make_account(mail_app)
        send(
            mail_app,
            [recipient(ada, name="Ada")],
            kind=ROLLED_BACK,
            title="fraud_detector rolled back to v2",
            body="Reason: drift on amount.",
            link="/models/fraud_detector",
        )

        mail = mail_server.inbox.wait_for(ada.email, subject="rolled back")
        assert mail.subject == "[Kiln] fraud_detector rolled back to v2"
        assert mail.body.startswith("Hello Ada,")
        assert "Reason: drift on amount." in mail.body
        assert mail.link("/models/fraud_detector").startswith("http://127.0.0.1:8000/")
        assert mail.link("/profile")  # where to turn it off
        assert stored_count(mail_app, ada.id) == 1  # and in the app as well

    def test_kinds_that_do_not_mail_by_default_stay_in_the_app(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        assert KINDS[PROMOTED].email is False
        ada = make_account(mail_app)
        send(mail_app, [ada], kind=PROMOTED)
        mail_server.inbox.assert_quiet(ada.email)
        assert stored_count(mail_app, ada.id) == 1

    def test_opting_out_of_email_stops_the_mail_but_not_the_notification(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        ada, bob = make_account(mail_app), make_account(mail_app)
        set_channels(mail_app, bob, ROLLED_BACK, email=False)

        send(mail_app, [ada, bob], kind=ROLLED_BACK, title="fraud_detector rolled back")

        mail_server.inbox.wait_for(ada.email, subject="rolled back")
        mail_server.inbox.assert_quiet(bob.email)
        assert stored_count(mail_app, bob.id) == 1

    def test_opting_in_to_email_for_a_quiet_kind_mails(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        ada = make_account(mail_app)
        set_channels(mail_app, ada, PROMOTED, email=True, in_app=False)

        assert send(mail_app, [ada], kind=PROMOTED, title="fraud_detector v4 is in production") == 1

        mail_server.inbox.wait_for(ada.email, subject="v4 is in production")
        assert stored_count(mail_app, ada.id) == 0


class Rollback(Exception):
    pass


def _notify_then_fail(app: FastAPI, account: Account) -> None:
    with database(app).unit_of_work() as session:
        reached = service.notify(
            session,
            [recipient(account)],
            kind=ROLLED_BACK,
            title="rolled back",
            mailer=kiln_state(app).mailer,
        )
        assert reached == 1  # it would have reached them
        raise Rollback


def test_a_change_that_rolls_back_stores_and_sends_nothing(
    mail_app: FastAPI, mail_server: MailServer
) -> None:
    ada = make_account(mail_app)
    with pytest.raises(Rollback):
        _notify_then_fail(mail_app, ada)

    mail_server.inbox.assert_quiet(ada.email)
    assert stored_count(mail_app) == 0


def test_the_api_says_which_kinds_exist_when_a_setting_names_another(client: TestClient) -> None:
    response = client.put(SETTINGS, json=[{"kind": "model.exploded", "email": False}])
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    for kind in ("model_version.promoted", "approval.requested", "alert.firing"):
        assert kind in message
