"""Where a ``kiln serve`` start's CPU and memory go, phase by phase, in one fresh process.

    PYTHONPATH=$PWD/src .bench-venv/bin/python -m bench.serving_start_phases [MODEL_FOLDER]

The phases a serving replica goes through before its first deployment is ready, in order: the
``kiln`` command's module, ``import kiln.app``, ``create_serving_app()`` (on a temporary home), the
lifespan's ``gc.collect()`` + ``gc.freeze()``, the model's stack (``skops.io``, as Kiln imports it),
and loading plus warming up the model. Each prints its CPU seconds and the RSS it added; then the
heavy optional modules the process holds. Without a folder, the benchmark's breast-cancer pipeline
is saved with ``kiln.save_model`` in a child process first (so this process imports none of it).
"""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HEAVY = ("pandas", "pyarrow", "dask", "jinja2", "jwt", "cryptography", "alembic")

SAVE = """
import sys
import kiln
from bench import serving_model as sm
trained = sm.train()
kiln.save_model(trained.model, sys.argv[1], X=trained.X)
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class Phases:
    def __init__(self) -> None:
        self.cpu, self.rss = cpu_s(), rss_mb()

    def done(self, name: str) -> None:
        cpu, rss = cpu_s(), rss_mb()
        print(
            f"phase.{name}: {cpu - self.cpu:.2f} s CPU, {rss - self.rss:+.1f} MB (RSS {rss:.0f} MB)",
            flush=True,
        )
        self.cpu, self.rss = cpu, rss


def skops_io() -> Any:
    try:  # a checkout with kiln.registry.flavors.skops_trust imports skops as a Kiln process does
        from kiln.registry.flavors.skops_trust import skops_io as kiln_skops_io
    except ImportError:
        return importlib.import_module("skops.io")
    return kiln_skops_io()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kiln-phases-") as tmp:
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "model"
        if len(sys.argv) <= 1:
            subprocess.run([sys.executable, "-c", SAVE, str(folder)], check=True, capture_output=True)
        os.environ["KILN_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("KILN_DATABASE_URL", None)
        phases = Phases()
        importlib.import_module("kiln.cli.entry")
        phases.done("cli_entry")
        from kiln.app import create_serving_app

        phases.done("import_kiln_app")
        create_serving_app()
        phases.done("create_serving_app")
        gc.collect()
        gc.freeze()
        phases.done("gc_freeze")
        skops_io()
        phases.done("model_stack")
        from kiln.registry.loaded_model import load_model_folder

        load_model_folder(folder).smoke_test()
        phases.done("load_and_warm_up")
        print(f"# heavy modules held: {sorted(name for name in HEAVY if name in sys.modules)}")


if __name__ == "__main__":
    main()
