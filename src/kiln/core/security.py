"""Security primitives: password hashing (argon2), opaque tokens, JWTs and the server's secret key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiln.core.ids import new_id, utcnow

log = structlog.get_logger(__name__)
JWT_ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Spend the same time as a real check, so unknown emails cannot be told apart by timing."""
    verify_password(_dummy_hash(), password)


def new_token(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens and keys are stored only as sha256: they carry 256 random bits, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def encode_access_token(claims: dict[str, Any], *, secret: str, ttl: timedelta) -> str:
    now = utcnow()
    payload = {**claims, "iat": now, "exp": now + ttl, "jti": new_id(), "typ": "access"}
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token; ``None`` for anything else (never why)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "iat", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == "access" else None


def resolve_secret_key(configured: str | None, home: Path, *, embedded: bool) -> str:
    """``KILN_SECRET_KEY`` when set. An embedded install without one gets a random key kept in
    ``$KILN_HOME/secret.key`` (mode 0600) so the demo needs no configuration; a shared database
    without a configured key is refused, since replicas must agree on it."""
    if configured:
        if len(configured) < 32:
            raise ValueError("KILN_SECRET_KEY must be at least 32 characters")
        return configured
    if not embedded:
        raise ValueError("set KILN_SECRET_KEY (32+ random characters) when using a shared database")
    path = home / "secret.key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    log.warning("security.secret_key_generated", path=str(path), hint="set KILN_SECRET_KEY in production")
    return key
