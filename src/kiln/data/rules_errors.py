"""The data rules' refusals, each with its own code (the SDK raises the same class). Importable without
pandas or the database, like every error."""

from __future__ import annotations

from kiln.core.errors import ValidationFailed


class RulesInvalid(ValidationFailed):
    """A rule does not fit the dataset's schema (an unknown column, a range on text, an expression
    comparing text with a number); ``details`` name the rule, its expression and the column."""

    code = "rules_invalid"


class FrameRejected(ValidationFailed):
    """The whole batch is refused, not some rows: a declared column is missing, a column is not
    declared, or none of a column's values has its declared type. ``details.column`` names it."""

    code = "frame_rejected"
