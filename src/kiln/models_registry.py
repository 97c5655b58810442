"""Imports every domain's ORM models so ``Base.metadata`` is complete (for Alembic and tests)."""

from kiln.audit import models as _audit_models  # noqa: F401
from kiln.auth import models as _auth_models  # noqa: F401
from kiln.core.db import Base
from kiln.tracking import models as _tracking_models  # noqa: F401

metadata = Base.metadata
