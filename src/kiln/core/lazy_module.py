"""A module that is imported the first time one of its names is used, not when its importer loads.

pandas, pandera and pyarrow cost about a second of CPU to import, and only the data domain's
services use them; the server imports those services (through the data routers) at start-up. So
the data modules bind these names lazily at run time and for real under ``TYPE_CHECKING``::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")

mypy sees the real module; the process imports pandas only when data code first runs. Unlike
``importlib.util.LazyLoader`` nothing is put in ``sys.modules`` before then, so "was pandas
imported?" keeps its plain meaning.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        # Only called for names not found on the proxy: cache each one, so a name costs the
        # import once and a plain attribute lookup afterwards.
        if self._module is None:
            self._module = importlib.import_module(self._name)
        value = getattr(self._module, attribute)
        setattr(self, attribute, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on the first attribute used."""
    return _LazyModule(name)
