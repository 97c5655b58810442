"""Kiln's argon2 hasher, with each distinct password hashed once (tests/conftest.py installs it)."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher


class HashOncePerPassword:
    """Same parameters and same checks as the wrapped hasher; only ``hash`` remembers its answers,
    so users who share a password share its hash (and salt), which no test looks at."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._hashes: dict[str | bytes, str] = {}

    def hash(self, password: str | bytes) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._hasher.hash(password)
        return self._hashes[password]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hasher, name)
