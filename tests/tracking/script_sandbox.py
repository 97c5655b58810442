"""Run a generated reproduce script for real, in a temporary folder, with python, pip and git replaced
by stubs that only record how they were called (their arguments, and what pip read on stdin)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# Each call is one line: the program, then its arguments, separated by the ASCII unit separator.
STUB = """#!/bin/sh
{{ printf '%s' "{name}"; for arg in "$@"; do printf '\\037%s' "$arg"; done; printf '\\036'; }} >> "$CALLS"
if [ "{name}" = python ] && [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin" && : > "$3/bin/activate"
fi
if [ "{name}" = python ] && [ "$1" = -m ] && [ "$2" = pip ]; then cat >> "$PIP_INPUT"; fi
exit 0
"""


@dataclass(frozen=True, slots=True)
class ScriptRun:
    returncode: int
    calls: list[list[str]]
    pip_input: str
    folder: Path
    stderr: str


def syntax_errors(script: Path) -> str:
    """What ``sh -n`` says about the script ('' when it parses)."""
    checked = subprocess.run(
        ["sh", "-n", str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    return checked.stderr if checked.returncode else ""


def run_script(script: Path, sandbox: Path) -> ScriptRun:
    stubs = sandbox / "stubs"
    work = sandbox / "work"
    stubs.mkdir(parents=True)
    work.mkdir()
    for name in ("python", "pip", "git"):
        stub = stubs / name
        stub.write_text(STUB.format(name=name))
        stub.chmod(0o755)
    calls, pip_input = sandbox / "calls", sandbox / "pip-input"
    calls.touch()
    pip_input.touch()
    completed = subprocess.run(
        ["sh", str(script)],
        cwd=work,
        env={"PATH": f"{stubs}:/usr/bin:/bin", "CALLS": str(calls), "PIP_INPUT": str(pip_input)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    recorded = [call.split("\x1f") for call in calls.read_text().split("\x1e") if call]
    return ScriptRun(completed.returncode, recorded, pip_input.read_text(), work, completed.stderr)
