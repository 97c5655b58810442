"""Log lines are JSON objects a log shipper can read, whatever values a line carries."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import structlog
from kiln.core.logging import configure_logging
configure_logging("INFO", json=True)
structlog.contextvars.bind_contextvars(request_id="r-1")
structlog.get_logger("test").info("serving.tried", huge=2**70, thing=object(), mapping={1: "a"}, ratio=0.5)
"""


def test_a_line_carries_the_event_level_time_and_bound_ids() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    [line] = done.stderr.splitlines()
    parsed = json.loads(line)
    assert parsed["event"] == "serving.tried"
    assert parsed["level"] == "info"
    assert parsed["request_id"] == "r-1"
    assert parsed["timestamp"].endswith("Z")
    assert parsed["huge"] == 2**70  # past 64 bits: still the exact number
    assert parsed["thing"].startswith("<object object")
    assert parsed["mapping"] == {"1": "a"}
    assert parsed["ratio"] == 0.5
