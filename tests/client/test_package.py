"""``import kiln`` is cheap, and its names are the SDK's."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

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


def _type_checking_imports() -> dict[str, str]:
    """Name → module of the imports under ``if TYPE_CHECKING:`` in kiln/__init__.py."""
    tree = ast.parse(Path(kiln.__file__).read_text())
    block = next(
        node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: str(node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


class TestOneExportTable:
    def test_all_is_the_lazy_table(self) -> None:
        assert set(kiln.__all__) == {"__version__", *kiln._LAZY}

    def test_every_name_resolves_from_the_module_the_table_names(self) -> None:
        for name, module in kiln._LAZY.items():
            assert getattr(kiln, name) is getattr(importlib.import_module(module), name), name

    def test_type_checkers_see_the_same_names(self) -> None:
        assert _type_checking_imports() == kiln._LAZY

    def test_every_sdk_name_is_exported_by_kiln(self) -> None:
        import kiln.client

        missing = set(kiln.client.__all__) - set(dir(kiln))

        assert missing == set()
        for name in kiln.client.__all__:
            assert getattr(kiln, name) is getattr(kiln.client, name), name
