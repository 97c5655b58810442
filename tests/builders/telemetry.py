"""The demo's telemetry generator (``examples/telemetry.py``), loaded from its file.

``examples/`` is not a package of Kiln (its scripts run as ``python examples/x.py``), so the module is
loaded by path once and re-exported: tests judge exactly the data, schema and rules the demo uses.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "telemetry.py"


def _load() -> ModuleType:
    name = "kiln_example_telemetry"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pydantic resolve names through sys.modules
    spec.loader.exec_module(module)
    return module


_telemetry = _load()
BAD_KINDS: tuple[str, ...] = _telemetry.BAD_KINDS
MEASURES: tuple[str, ...] = _telemetry.MEASURES
SITES: tuple[str, ...] = _telemetry.SITES
START = _telemetry.START
generate_telemetry = _telemetry.generate_telemetry
injected_rows = _telemetry.injected_rows
telemetry_rules = _telemetry.telemetry_rules
telemetry_schema = _telemetry.telemetry_schema
