"""Imports every domain's ORM models so ``Base.metadata`` is complete (for Alembic and tests)."""

from kiln.core.db import Base
from kiln.tracking import models as _tracking_models  # noqa: F401

metadata = Base.metadata
