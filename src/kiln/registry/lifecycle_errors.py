"""The lifecycle's refusals, each with its own code (so the SDK raises the same class: ``except
kiln.registry.lifecycle_errors.GatesFailed``). Importable without the database, like every error."""

from __future__ import annotations

from kiln.core.errors import Conflict, InvalidState, PermissionDenied


class StageTransitionDenied(InvalidState):
    """The version's stage does not lead to the one asked for; ``details.allowed`` says what does."""

    code = "stage_transition_denied"


class GatesFailed(InvalidState):
    """A staging gate failed; ``details.failed`` names each with why (also kept on the version)."""

    code = "gates_failed"


class StageChanged(Conflict):
    """The version (or the model's production version) changed stage meanwhile: read it again."""

    code = "stage_changed"


class SelfApprovalRefused(PermissionDenied):
    """The decider asked for the promotion themselves (four-eyes)."""

    code = "self_approval_refused"


class AlreadyDecided(Conflict):
    """The approval was decided already."""

    code = "approval_already_decided"


class NothingToRollBack(InvalidState):
    """No version in production, or no earlier production version to return to."""

    code = "nothing_to_roll_back"
