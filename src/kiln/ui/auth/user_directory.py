"""Small read-only questions about accounts that the auth service does not answer yet."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.auth.models import User


def has_users(session: Session) -> bool:
    """Whether any account exists: the register page invites the very first visitor to become admin.

    One indexed row, rather than ``auth.service.list_users`` loading every account for a yes/no.
    """
    return session.scalar(select(User.id).limit(1)) is not None
