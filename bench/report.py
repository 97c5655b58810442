"""Benchmark output: one ``name: value unit`` line per figure, ratios last, and a JSON copy on disk."""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _format(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


@dataclass
class Report:
    title: str
    figures: list[tuple[str, float, str]] = field(default_factory=list)
    ratios: list[tuple[str, float, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figure(self, name: str, value: float, unit: str) -> None:
        self.figures.append((name, value, unit))
        print(f"{name}: {_format(value)} {unit}", flush=True)

    def ratio(self, name: str, value: float, target: str = "", unit: str = "x") -> None:
        """Held back and printed last: the headline figures."""
        self.ratios.append((name, value, target, unit))

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"# {text}", file=sys.stderr, flush=True)

    def finish(self) -> Path:
        for name, value, target, unit in self.ratios:
            suffix = f"  ({target})" if target else ""
            print(f"{name}: {_format(value)} {unit}{suffix}", flush=True)
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{self.title}-{time.strftime('%Y%m%dT%H%M%S')}.json"
        path.write_text(
            json.dumps(
                {
                    "title": self.title,
                    "machine": machine(),
                    "figures": [{"name": n, "value": v, "unit": u} for n, v, u in self.figures],
                    "ratios": [{"name": n, "value": v, "target": t, "unit": u} for n, v, t, u in self.ratios],
                    "notes": self.notes,
                },
                indent=2,
            )
        )
        return path


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_avg_1m": round(psutil.getloadavg()[0], 2),
    }
