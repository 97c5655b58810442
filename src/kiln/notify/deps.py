"""The mailer as a FastAPI dependency (one per app, on ``KilnState``)."""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from kiln.notify.email import Mailer


class NotifyState(Protocol):
    @property
    def mailer(self) -> Mailer: ...


def get_mailer(request: Request) -> Mailer:
    return cast(NotifyState, request.app.state.kiln).mailer


async def _mailer(request: Request) -> Mailer:  # async: a state lookup needs no thread
    return get_mailer(request)


MailerDep = Annotated[Mailer, Depends(_mailer)]
