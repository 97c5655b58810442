"""``ProjectPermissions``: what the actor may do inside one project, for domains below auth.

Auth knows memberships and project roles; ``app.py`` installs its answer
(``kiln.auth.projects.permissions_in_project``) on the app state, so a domain below it (jobs)
applies the same rule as ``require_in_project`` without importing auth: ``None`` for a
non-member (who must get a 404), else the permissions of the actor's effective role there.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.permissions import Permission


class ProjectPermissions(Protocol):
    def __call__(
        self, session: Session, actor: Actor, project_id: str, /
    ) -> frozenset[Permission] | None: ...
