"""How long request validation takes on the serving hot path: 1 record and 1,000 records.

    .venv/bin/python -m bench.validate_records

A 10-field telemetry signature (8 bounded numbers, a category, an optional integer); best of
several repeats, so a busy machine's noise shows less. Kiln-only: nothing to compare against.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kiln.registry.model_format import FieldSpec, FieldType, Signature
from kiln.registry.signature_validation import RecordValidator, validate_records

NUMBERS = [f"metric_{i}" for i in range(8)]
SIGNATURE = Signature(
    inputs=[
        *(FieldSpec(name=name, minimum=0, maximum=1e6) for name in NUMBERS),
        FieldSpec(name="protocol", type=FieldType.category, allowed=["tcp", "udp", "icmp"]),
        FieldSpec(name="retries", type=FieldType.integer, required=False, default=0),
    ]
)


def records(n: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1000, size=(n, len(NUMBERS))).tolist()
    protocols = rng.choice(["tcp", "udp", "icmp"], n).tolist()
    return [
        {**dict(zip(NUMBERS, row, strict=True)), "protocol": protocol, "retries": i % 3}
        for i, (row, protocol) in enumerate(zip(values, protocols, strict=True))
    ]


def best_of(call: Callable[[], object], repeats: int = 7, number: int = 50) -> float:
    """Microseconds per call, the best of ``repeats`` rounds of ``number`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def main() -> None:
    validator = RecordValidator(SIGNATURE)
    for n in (1, 1000):
        data = records(n)
        frame = pd.DataFrame(data)
        cases: list[tuple[str, Callable[[], object]]] = [
            ("compiled validator, list of dicts", lambda data=data: validator.validate(data)),
            ("validate_records(), list of dicts", lambda data=data: validate_records(SIGNATURE, data)),
            ("compiled validator, DataFrame", lambda frame=frame: validator.validate(frame)),
        ]
        for label, call in cases:
            print(f"{n:>5} records  {label:<34} {best_of(call):8.0f} µs")


if __name__ == "__main__":
    main()
