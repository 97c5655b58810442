"""Mail delivery over SMTP (``KILN_SMTP_*``), off the request path and only after commit.

Services call ``mailer.queue(session, mail)``: the mail leaves once the transaction commits, never
for a token or an invitation that was rolled back.

Sending happens on a small thread pool, so a request that mails (a password reset) takes as long
as one that does not — response timing must not reveal whether an address is registered.
Without an SMTP host, mail is logged instead of sent, so an embedded install still works.
"""

from __future__ import annotations

import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

import structlog
from sqlalchemy.orm import Session

from kiln.core.db import after_commit
from kiln.notify.settings import SmtpSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer:
    def __init__(self, settings: SmtpSettings, *, public_url: str = "http://127.0.0.1:8000") -> None:
        self.settings = settings
        # Where the server is reached from outside (``KILN_PUBLIC_URL``): links in mail are absolute.
        self.public_url = public_url.rstrip("/")
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def queue(self, session: Session, mail: Mail) -> None:
        """Send ``mail`` once ``session`` commits; drop it if the transaction rolls back."""
        after_commit(session, lambda: self.send_later(mail))

    def absolute_url(self, path: str) -> str:
        """``path`` (a relative URL inside Kiln, such as ``/models/fraud``) as a link a mail client opens."""
        return f"{self.public_url}/{path.lstrip('/')}"

    def send_later(self, mail: Mail) -> Future[None]:
        # The pool starts with the first mail, and again after ``close`` (an app served twice in tests).
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kiln-mail")
            return self._pool.submit(self._deliver, mail)

    def _deliver(self, mail: Mail) -> None:
        if not self.settings.host:
            log.warning("notify.mail_not_configured", to=mail.to, subject=mail.subject, body=mail.body)
            return
        try:
            self.send_now(mail)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("notify.mail_failed", to=mail.to, subject=mail.subject, error=str(exc))
            return
        log.info("notify.mail_sent", to=mail.to, subject=mail.subject)

    def send_now(self, mail: Mail) -> None:
        """Send ``mail`` in this thread; raises ``OSError``/``SMTPException`` when it does not go (for
        callers that record and retry each attempt, such as alert deliveries on the job queue)."""
        settings = self.settings
        if not settings.host:
            raise smtplib.SMTPException("no SMTP server is configured (KILN_SMTP_HOST)")
        message = EmailMessage()
        message["From"] = settings.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        smtp_class = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
        with smtp_class(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)

    def close(self) -> None:
        """Wait for queued mail to go out and stop the threads (the app's lifespan calls this)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
