"""``AuditTrail``: appending an audit record, for domains below audit (jobs) that change things
on a person's behalf.

Audit sits above them, so they cannot import it; ``app.py`` installs ``kiln.audit.service.record``
on the app state, and their routes hand it to the service (``kiln.core.deps.AuditTrailDep``), which
records in the same transaction as the change, as every audited change does.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from kiln.core.actor import Actor


class AuditTrail(Protocol):
    def __call__(
        self,
        session: Session,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: str,
        details: dict[str, Any] | None = None,
        /,
    ) -> object: ...
