"""What the monitoring and alert pages take: the caller with the right permission, as aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.ui.page_access import form_require, page_require

MonitorsPage = Annotated[Actor, Depends(page_require(Permission.monitors_read))]
AlertsPage = Annotated[Actor, Depends(page_require(Permission.alerts_read))]
AlertsForm = Annotated[Actor, Depends(form_require(Permission.alerts_write))]
Window = Annotated[str, Query(max_length=8, description="1m, 1h or 1d")]
