"""What a run's captured environment says, arranged for the run page.

The environment is free-form JSON written by whichever client created the run; these functions
pick out the well-known parts (python, platform, git, command, packages) and keep the rest as is.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from kiln.tracking.environment import known_parts

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


def environment_view(environment: dict[str, Any]) -> EnvironmentView:
    known = known_parts(environment)
    git_fields = {key: _text(value) for key, value in known.git.items()}
    dirty = known.git.get("dirty")
    return EnvironmentView(
        python=known.python,
        platform=known.platform,
        git={k: v for k, v in git_fields.items() if k not in ("commit", "dirty")},
        git_commit=git_fields.get("commit", ""),
        git_dirty=dirty if isinstance(dirty, bool) else None,
        command=shlex.join(known.command),
        packages=sorted(known.packages.items()),
        other=sorted((k, _text(v)) for k, v in environment.items() if k not in KNOWN_KEYS),
    )
