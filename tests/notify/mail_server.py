"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping every message it receives.

Kiln sends mail on a thread pool after the request has answered, so tests wait for a message
(with a timeout) instead of expecting it to be there already.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    subject: str
    body: str

    def is_to(self, address: str) -> bool:
        # Mail systems treat addresses case-insensitively (the domain always, the local part in practice).
        return address.lower() in (recipient.lower() for recipient in self.recipients)

    def link(self, path: str) -> str:
        """The first URL in the body whose path is ``path`` (e.g. ``/reset-password``)."""
        for url in re.findall(r"https?://\S+", self.body):
            if urlsplit(url).path == path:
                return str(url)
        raise AssertionError(f"no {path} link in mail {self.subject!r}:\n{self.body}")

    def link_param(self, path: str, name: str) -> str:
        values = parse_qs(urlsplit(self.link(path)).query).get(name)
        assert values, f"the {path} link has no {name!r} parameter"
        return values[0]


class Inbox:
    """The aiosmtpd handler: stores messages and wakes up waiting tests."""

    def __init__(self) -> None:
        self._messages: list[ReceivedMail] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(preferencelist=("plain",))
        mail = ReceivedMail(
            sender=str(envelope.mail_from),
            recipients=[str(to) for to in envelope.rcpt_tos],
            subject=str(parsed["Subject"]),
            # SMTP carries CRLF line ends; compare bodies as the sender wrote them.
            body=body.get_content().replace("\r\n", "\n") if body is not None else "",
        )
        with self._changed:
            self._messages.append(mail)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._changed:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.messages if mail.is_to(address)]

    def wait_for(self, address: str, *, subject: str = "", timeout: float = 10.0) -> ReceivedMail:
        """The first message to ``address`` whose subject contains ``subject``, once it has arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for mail in self._messages:
                    if mail.is_to(address) and subject in mail.subject:
                        return mail
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(m.recipients, m.subject) for m in self._messages]
                    raise AssertionError(f"no mail to {address} ({subject!r}) within {timeout} s; got {seen}")
                self._changed.wait(remaining)

    def assert_quiet(self, address: str, *, for_seconds: float = 1.0) -> None:
        """Nothing arrives for ``address`` for a while (mail is asynchronous: absence needs a wait)."""
        time.sleep(for_seconds)
        assert self.to(address) == [], f"unexpected mail to {address}: {self.to(address)}"


@dataclass(frozen=True, slots=True)
class MailServer:
    host: str
    port: int
    inbox: Inbox


def free_port() -> int:
    # aiosmtpd cannot be started on port 0 (it connects to the port to check it is up), so pick one first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_mail_server() -> Iterator[MailServer]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield MailServer("127.0.0.1", controller.port, inbox)
    finally:
        controller.stop()
