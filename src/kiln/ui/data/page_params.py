"""What every data page takes: the caller with ``datasets:read``, and ``?project=`` (id or name)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.ui.page_access import page_require

DataPage = Annotated[Actor, Depends(page_require(Permission.datasets_read))]
Project = Annotated[str | None, Query(max_length=128, description="project id or name")]
