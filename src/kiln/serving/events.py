"""What serving announces in-process: a deployment changed (so this process's model cache refreshes now).

Other serving processes notice the same change by polling ``max(deployments.revision)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.core.events import Event


@dataclass(frozen=True, slots=True)
class DeploymentChanged(Event):
    name: str
    revision: int
