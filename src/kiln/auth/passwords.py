"""Password rules: a minimum length and no common or easily guessed password."""

from __future__ import annotations

from kiln.core.errors import ValidationFailed

MIN_LENGTH = 10


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_LENGTH} characters",
            details={"field": "password", "rule": "min_length"},
        )
    # zxcvbn knows the common-password lists; the user's own email and name count as guessable.
    # Imported here: its dictionaries take 12 MB, which a serving process, that never sets a
    # password, does not need.
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[part for part in (email, name, "kiln") if part])
    if result["score"] < 3:
        warning = result["feedback"].get("warning") or "it is too easy to guess"
        raise ValidationFailed(
            f"password is too weak: {warning.rstrip('.')}. Use a longer phrase of uncommon words.",
            details={"field": "password", "rule": "strength"},
        )
