"""Let the ``kiln`` script present itself to ``multiprocessing`` as ``python -m kiln``.

A process that ``multiprocessing`` starts (spawn or forkserver: the pipelines' step processes)
re-runs its parent's ``__main__`` first when that is a script file: for the ``kiln`` script, the
whole CLI and app, 1.4-2.2 s before the process's first step (profiled with py-spy). For a module
run with ``-m`` it reads ``__main__.__spec__`` instead, and a ``*.__main__`` module is never re-run
(``multiprocessing.spawn._fixup_main_from_name``). Giving the script's ``__main__`` the spec of
``kiln.__main__`` (which exists: ``python -m kiln`` is the same command) makes the two alike.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SCRIPT_NAMES = {"kiln", "kiln.exe", "kiln-script.py"}


def present_as_module() -> None:
    """Only under the ``kiln`` script: a test runner's or another program's ``__main__`` stays."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return
    if Path(getattr(main, "__file__", "") or "").name not in _SCRIPT_NAMES:
        return
    main.__spec__ = importlib.util.find_spec("kiln.__main__")
