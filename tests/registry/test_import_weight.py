"""The model-folder modules are what the SDK imports: no database, no web framework behind them."""

from __future__ import annotations

import subprocess
import sys


def test_model_folder_modules_import_neither_sqlalchemy_nor_fastapi() -> None:
    modules = (
        "model_format",
        "signature",
        "signature_inference",
        "signature_validation",
        "model_folder",
        "flavors",
        "loaded_model",
        "errors",
    )
    probe = (
        "import sys\n"
        + "".join(f"import kiln.registry.{name}\n" for name in modules)
        + "import kiln.client.sklearn_model\n"
        + "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'starlette') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
