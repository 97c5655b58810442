"""Imports every domain's ORM models so ``Base.metadata`` is complete (for Alembic and tests).

Discovered, not listed: any ``kiln/<package>/models.py`` (or ``<idea>_models.py``, for a domain whose
tables are split by idea, as serving's ``deployment_models.py``) is imported, so a new domain's tables reach
``alembic revision --autogenerate`` without an edit here (``tests/test_migrations.py`` checks it).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import kiln
from kiln.core.db import Base


def discover_models() -> list[str]:
    """Import ``kiln.<package>.models`` for every package that has one; return their names."""
    found = []
    for package in pkgutil.iter_modules(kiln.__path__):
        if not package.ispkg:
            continue
        # Look for the file without importing the package: kiln.client's __init__ pulls in httpx.
        folders = [str(Path(root) / package.name) for root in kiln.__path__]
        for module in sorted(pkgutil.iter_modules(folders), key=lambda found_module: found_module.name):
            if module.name == "models" or module.name.endswith("_models"):
                name = f"kiln.{package.name}.{module.name}"
                importlib.import_module(name)
                found.append(name)
    return found


MODEL_MODULES = discover_models()
metadata = Base.metadata
