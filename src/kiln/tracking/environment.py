"""A run's captured environment: the shapes of its well-known keys and which package pins are safe.

The environment is JSON written by whichever client created the run. Kiln reads five keys back
(``python``, ``platform``, ``command``, ``git``, ``packages``) to show the run and to write a script
that rebuilds it, so those keys are checked when a run is recorded, and read defensively afterwards
(rows recorded before the checks existed may hold anything). The rest is kept as sent.

Only schemas-level imports here (pydantic-free, no SQLAlchemy): the SDK validates with it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

# Deeper than any real environment; bounds the work (and the recursion) per run.
MAX_DEPTH = 32
GIT_TEXT_KEYS = ("commit", "branch", "remote", "root", "url")
WARNINGS_KEY = "warnings"


def json_safe(value: Any, depth: int = 0) -> Any:
    """NaN and infinities as the strings the API uses for them; ``ValueError`` past ``MAX_DEPTH`` levels."""
    if depth > MAX_DEPTH:
        raise ValueError(f"environment is nested deeper than {MAX_DEPTH} levels; flatten it")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item, depth + 1) for item in value]
    return value


def _shape_error(key: str, expected: str, example: str) -> ValueError:
    return ValueError(f"environment.{key} must be {expected}, e.g. {example}")


def check_known_shapes(environment: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first well-known key whose value has the wrong shape."""
    for key in ("python", "platform"):
        if key in environment and not isinstance(environment[key], str):
            raise _shape_error(key, "a string", '"3.11.9"')
    command = environment.get("command")
    if command is not None and not (isinstance(command, list) and all(isinstance(a, str) for a in command)):
        raise _shape_error("command", "a list of strings (sys.argv)", '["train.py", "--epochs", "3"]')
    git = environment.get("git")
    if git is not None:
        if not isinstance(git, dict):
            raise _shape_error("git", "an object", '{"commit": "<sha>", "dirty": false}')
        for name in GIT_TEXT_KEYS:
            if name in git and not isinstance(git[name], str):
                raise _shape_error(f"git.{name}", "a string", '"main"')
        if "dirty" in git and not isinstance(git["dirty"], bool):
            raise _shape_error("git.dirty", "true or false", "false")
    packages = environment.get("packages")
    if packages is not None and not (
        isinstance(packages, dict) and all(isinstance(v, str) for v in packages.values())
    ):
        raise _shape_error("packages", "an object of name to version strings", '{"numpy": "1.26.4"}')
    warnings = environment.get(WARNINGS_KEY)
    if warnings is not None and not (
        isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)
    ):
        raise _shape_error(WARNINGS_KEY, "a list of strings", '["..."]')


def _shown(text: str, limit: int = 80) -> str:
    """A quoted, escaped and shortened rendering of untrusted text for a message."""
    quoted = repr(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def pin_problem(name: str, version: str) -> str | None:
    """Why ``name==version`` cannot be handed to pip, or ``None`` when it is a plain pin.

    PEP 508 names and PEP 440 versions contain no whitespace, quotes, ';', '@' or leading '-', so
    a valid pin can never become a pip option, a second requirement or shell syntax.
    """
    try:
        canonicalize_name(name, validate=True)
    except InvalidName:
        return f"package {_shown(name)} skipped: not a PEP 508 distribution name"
    try:
        # packaging tolerates surrounding whitespace (a newline, say); Kiln does not.
        if version != version.strip():
            raise InvalidVersion(version)
        Version(version)
    except InvalidVersion:
        return f"package {name} skipped: version {_shown(version)} is not a PEP 440 version"
    return None


def pin(name: str, version: str) -> str:
    """``name==version`` with the version in its normal form (assumes ``pin_problem`` found nothing)."""
    return f"{name}=={Version(version)}"


def split_packages(packages: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The pins pip can safely install, and one warning per entry left out."""
    kept: dict[str, str] = {}
    warnings: list[str] = []
    for name, version in packages.items():
        problem = pin_problem(name, version)
        if problem is None:
            kept[name] = version
        else:
            warnings.append(problem)
    return kept, warnings


def validated(environment: dict[str, Any]) -> dict[str, Any]:
    """What ``RunCreate`` stores: JSON-safe, well-known keys checked, unsafe package pins dropped.

    An odd locally installed distribution must not stop a training script from starting its run,
    so a bad pin is dropped with a recorded warning rather than refused; a wrong shape is refused.
    """
    safe: dict[str, Any] = json_safe(environment)
    check_known_shapes(safe)
    packages = safe.get("packages")
    if packages:
        kept, warnings = split_packages(packages)
        if warnings:
            safe["packages"] = kept
            safe[WARNINGS_KEY] = [*safe.get(WARNINGS_KEY, []), *warnings]
    return safe


@dataclass(frozen=True, slots=True)
class KnownParts:
    """The well-known keys of any stored environment, coerced to their shapes (old rows included)."""

    python: str = ""
    platform: str = ""
    command: list[str] = field(default_factory=list)
    git: dict[str, Any] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _pairs_from_freeze(items: list[Any]) -> dict[str, str]:
    # An old pip-freeze style list: "name==version".
    pairs = (str(item).partition("==") for item in items)
    return {name: version for name, sep, version in pairs if sep}


def known_parts(environment: Any) -> KnownParts:
    """Read the well-known keys without trusting their shapes: a malformed row never breaks a page."""
    env = environment if isinstance(environment, dict) else {}
    command = env.get("command")
    git = env.get("git")
    packages = env.get("packages")
    warnings = env.get(WARNINGS_KEY)
    if isinstance(packages, dict):
        package_map = {str(name): str(version) for name, version in packages.items()}
    elif isinstance(packages, list):
        package_map = _pairs_from_freeze(packages)
    else:
        package_map = {}
    python, platform = env.get("python"), env.get("platform")
    return KnownParts(
        python=python if isinstance(python, str) else "",
        platform=platform if isinstance(platform, str) else "",
        command=[str(part) for part in command] if isinstance(command, list) else [],
        git={str(k): v for k, v in git.items()} if isinstance(git, dict) else {},
        packages=package_map,
        warnings=[str(w) for w in warnings] if isinstance(warnings, list) else [],
    )
