"""Artifact paths come from users: accept only plain relative paths that stay inside their prefix."""

from __future__ import annotations

import re
import unicodedata

from kiln.core.errors import Invalid

_FORBIDDEN = re.compile(r"[\x00-\x1f\\]")
MAX_PATH_LENGTH = 1024


def safe_relpath(path: str) -> str:
    """Return ``path`` normalised to ``a/b/c`` or raise ``Invalid`` saying what is wrong with it."""
    # One spelling per name: 'café' typed as NFC or NFD is the same artifact.
    path = unicodedata.normalize("NFC", path)
    if not path or not path.strip():
        raise Invalid("artifact path is empty; give a relative path such as 'plots/loss.png'")
    if len(path) > MAX_PATH_LENGTH:
        raise Invalid(f"artifact path is longer than {MAX_PATH_LENGTH} characters")
    if _FORBIDDEN.search(path):
        raise Invalid("artifact path contains a backslash or a control character; use '/' between folders")
    # Invisible format characters (bidi overrides such as U+202E) make a name look like another.
    hidden = next((char for char in path if unicodedata.category(char) == "Cf"), None)
    if hidden is not None:
        raise Invalid(
            f"artifact path contains the invisible format character U+{ord(hidden):04X} "
            f"({unicodedata.name(hidden, 'unnamed')}); remove it"
        )
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "://" in path:
        raise Invalid(f"artifact path {path!r} is absolute; give a path relative to the run's artifacts")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise Invalid(f"artifact path {path!r} contains '.' or '..'; paths may not leave the run's folder")
    return "/".join(parts)


def join_key(prefix: str, relpath: str) -> str:
    """Join a trusted prefix and a user path, after validating the user part."""
    return f"{prefix.rstrip('/')}/{safe_relpath(relpath)}"
