"""What a run needs to be reproduced: interpreter, platform, packages, command line and git state.

Captured once at run start; every probe is fast and none may fail the run (git may be absent).
"""

from __future__ import annotations

import functools
import os
import platform
import re
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

GIT_TIMEOUT_SECONDS = 2.0
# Greedy up to the last '@' before the host: a password may itself contain '@'.
_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)[^/?#]*@", re.IGNORECASE)
# `--hf-token x`, `--api-key=x`, `--db-password x`, `--client-secret=x`: the value is a credential.
_SECRET_FLAG = re.compile(r"^--?[\w.-]*(token|key|password|passwd|secret)[\w.-]*$", re.IGNORECASE)
REDACTED = "<redacted>"


@functools.cache
def installed_packages() -> dict[str, str]:
    """Distribution name -> version for everything importable in this interpreter.

    Read once per process (a few milliseconds per package): installs do not change under a run.
    """
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        meta = dist.metadata  # parsed once; dist.version would parse the file again
        name, version = meta["Name"] if meta else None, meta["Version"] if meta else None
        if name and version and name not in packages:
            packages[name] = version
    return dict(sorted(packages.items(), key=lambda item: item[0].lower()))


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # git not installed, or too slow: no git info
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def strip_credentials(url: str) -> str:
    """``https://user:token@host/repo`` -> ``https://host/repo``: a token must never land in a run."""
    return _USERINFO.sub(r"\g<scheme>", url)


def redact_argv(argv: list[str]) -> list[str]:
    """``sys.argv`` with the values of credential-looking flags replaced, so no secret lands in a run."""
    redacted: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("--"):
            redacted.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        flag, equals, _value = arg.partition("=")
        if _SECRET_FLAG.match(flag):
            if equals:
                redacted.append(f"{flag}={REDACTED}")
                continue
            hide_next = True
        redacted.append(arg)
    return redacted


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """Commit, branch, dirty flag and origin URL when ``cwd`` is inside a git work tree, else ``{}``."""
    where = cwd or Path.cwd()
    commit = _git(["rev-parse", "HEAD"], where)
    if not commit:
        return {}
    state: dict[str, Any] = {"commit": commit}
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], where)
    if branch:
        state["branch"] = branch
    # Untracked files are skipped: listing them can take seconds in a big checkout.
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    if status is not None:
        state["dirty"] = bool(status)
    remote = _git(["config", "--get", "remote.origin.url"], where)
    if remote:
        state["remote"] = strip_credentials(remote)
    root = _git(["rev-parse", "--show-toplevel"], where)
    if root:
        state["root"] = root
    return state


def script_path() -> str:
    """The script being run (absolute), or a marker for interactive sessions and ``python -c``."""
    entry = sys.argv[0] if sys.argv else ""
    if entry and entry not in ("-c", "-m") and Path(entry).exists():
        return str(Path(entry).resolve())
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main_file:
        return str(Path(main_file).resolve())
    return entry or "<interactive>"


def capture_environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "cwd": os.getcwd(),
        "command": redact_argv(list(sys.argv)),
        "packages": dict(installed_packages()),
        "git": git_state(),
    }
