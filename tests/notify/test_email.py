"""The mailer delivers over real SMTP off the caller's thread, and a broken mail server breaks nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiln.notify.email import Mail, Mailer, SmtpSettings
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
