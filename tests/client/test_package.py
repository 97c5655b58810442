"""``import kiln`` is cheap, and its names are the SDK's."""

from __future__ import annotations

import subprocess
import sys

import kiln
from kiln.core import errors


def test_import_kiln_loads_neither_http_nor_ml_libraries() -> None:
    heavy = ("httpx", "sklearn", "pandas", "sqlalchemy")
    probe = f"import sys, kiln; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_error_classes_are_the_ones_the_api_maps_to() -> None:
    assert kiln.Conflict is errors.Conflict
    assert kiln.NotFound is errors.NotFound
    assert kiln.InvalidState is errors.InvalidState
    assert issubclass(kiln.InvalidState, kiln.Conflict)


def test_sdk_names_resolve_on_first_use() -> None:
    assert callable(kiln.start_run)
    assert kiln.Client.__name__ == "Client"
    assert callable(kiln.sklearn.autolog)
    assert {"start_run", "log_metric", "Client"} <= set(dir(kiln))
