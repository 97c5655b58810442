"""What a run's captured environment says, arranged for the run page.

The environment is free-form JSON written by whichever client created the run; these functions
pick out the well-known parts (python, platform, git, command, packages) and keep the rest as is.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from kiln.tracking.schemas import Reproduction

KNOWN_KEYS = ("python", "platform", "git", "command", "packages")


@dataclass(slots=True)
class EnvironmentView:
    python: str = ""
    platform: str = ""
    git: dict[str, str] = field(default_factory=dict)
    git_commit: str = ""
    git_dirty: bool | None = None
    command: str = ""
    packages: list[tuple[str, str]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.python or self.platform or self.git or self.command or self.packages or self.other)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _command(value: Any) -> str:
    if isinstance(value, list):
        return shlex.join(str(part) for part in value)
    return "" if value is None else str(value)


def _packages(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return sorted((str(name), _text(ver)) for name, ver in value.items())
    if isinstance(value, list):
        # A pip-freeze style list: "name==version".
        pairs = [str(item).partition("==") for item in value]
        return sorted((name, ver) for name, _, ver in pairs)
    return []


def environment_view(environment: dict[str, Any]) -> EnvironmentView:
    git = environment.get("git")
    git_fields = {str(k): _text(v) for k, v in git.items()} if isinstance(git, dict) else {}
    dirty = git.get("dirty") if isinstance(git, dict) else None
    return EnvironmentView(
        python=_text(environment.get("python") or ""),
        platform=_text(environment.get("platform") or ""),
        git={k: v for k, v in git_fields.items() if k not in ("commit", "dirty")},
        git_commit=git_fields.get("commit", ""),
        git_dirty=dirty if isinstance(dirty, bool) else None,
        command=_command(environment.get("command")),
        packages=_packages(environment.get("packages")),
        other=sorted((k, _text(v)) for k, v in environment.items() if k not in KNOWN_KEYS),
    )


def reproduce_script(reproduction: Reproduction) -> str:
    """Shell lines that rebuild the run: check out the code, install the packages, run the command."""
    lines: list[str] = []
    commit = reproduction.git.get("commit")
    remote = reproduction.git.get("remote") or reproduction.git.get("url")
    if remote:
        lines.append(f"git clone {shlex.quote(str(remote))}  # then cd into the clone")
    if commit:
        lines.append(f"git checkout {shlex.quote(str(commit))}")
    if reproduction.packages:
        pins = " ".join(shlex.quote(f"{name}=={ver}") for name, ver in sorted(reproduction.packages.items()))
        lines.append(f"pip install {pins}")
    if reproduction.command:
        lines.append(shlex.join(reproduction.command))
    return "\n".join(lines)
