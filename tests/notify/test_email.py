"""The mailer delivers over real SMTP off the caller's thread, and a broken mail server breaks nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiln.core.db import Database
from kiln.notify.email import Mail, Mailer
from kiln.notify.settings import SmtpSettings
from tests.notify.mail_server import MailServer, free_port


@pytest.fixture
def mailer(mail_server: MailServer) -> Iterator[Mailer]:
    sender = Mailer(SmtpSettings(host=mail_server.host, port=mail_server.port, sender="kiln@kiln.test"))
    yield sender
    sender.close()


def test_a_mail_arrives_as_sent(mailer: Mailer, mail_server: MailServer) -> None:
    body = "Grüße — your run finished.\nLink: http://127.0.0.1:8000/runs/1\n"
    mailer.send_later(Mail(to="ada@example.com", subject="Run finished: ✓", body=body)).result(timeout=10)
    mail = mail_server.inbox.wait_for("ada@example.com")
    assert mail.sender == "kiln@kiln.test"
    assert mail.recipients == ["ada@example.com"]
    assert mail.subject == "Run finished: ✓"
    assert mail.body == body


def test_several_mails_are_all_delivered(mailer: Mailer, mail_server: MailServer) -> None:
    futures = [
        mailer.send_later(Mail(to=f"user{n}@example.com", subject=f"n={n}", body="hi")) for n in range(5)
    ]
    for future in futures:
        future.result(timeout=10)
    assert sorted(mail.subject for mail in mail_server.inbox.messages) == [f"n={n}" for n in range(5)]


def test_an_unreachable_server_is_logged_not_raised() -> None:
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    try:
        # Nothing listens there: delivery fails inside the pool, and the caller is never hurt by it.
        assert mailer.send_later(Mail(to="ada@example.com", subject="x", body="y")).result(timeout=10) is None
    finally:
        mailer.close()


class Rollback(Exception):
    pass


def _queue_then_fail(db: Database, mailer: Mailer, mail: Mail) -> None:
    with db.unit_of_work() as session:
        mailer.queue(session, mail)
        raise Rollback


def test_queued_mail_leaves_only_when_the_transaction_commits(
    mail_server: MailServer, migrated_database: Database
) -> None:
    mailer = Mailer(SmtpSettings(host=mail_server.host, port=mail_server.port, sender="kiln@kiln.test"))
    try:
        with pytest.raises(Rollback):
            _queue_then_fail(migrated_database, mailer, Mail(to="gone@example.com", subject="t", body="x"))
        with migrated_database.unit_of_work() as session:
            mailer.queue(session, Mail(to="committed@example.com", subject="token", body="sent"))
            assert mail_server.inbox.messages == []  # not before the commit
    finally:
        mailer.close()  # waits for every submitted delivery
    assert [mail.recipients for mail in mail_server.inbox.messages] == [["committed@example.com"]]
