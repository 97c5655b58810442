"""What auth announces in-process: credentials changed (so this process's credential cache drops
what it holds now). Other processes notice the same change by polling ``auth_revision``."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.core.events import Event


@dataclass(frozen=True, slots=True)
class CredentialsChanged(Event):
    revision: int
