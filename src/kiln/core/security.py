"""Security primitives: password hashing (argon2), opaque tokens, JWTs and the server's secret key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from kiln.core.ids import new_id, utcnow

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# PyJWT (with the cryptography bindings it loads) and argon2 are imported where they are used: a
# serving process checks API keys (sha256), so most never load them (start-up and idle memory).

log = structlog.get_logger(__name__)
JWT_ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

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
    import jwt

    now = utcnow()
    payload = {**claims, "iat": now, "exp": now + ttl, "jti": new_id(), "typ": "access"}
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token; ``None`` for anything else (never why)."""
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "iat", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == "access" else None


MIN_KEY_LENGTH = 32


def resolve_secret_key(configured: str | None, home: Path, *, embedded: bool) -> str:
    """``KILN_SECRET_KEY`` when set. An embedded install without one gets a random key kept in
    ``$KILN_HOME/secret.key`` (mode 0600) so the demo needs no configuration; a shared database
    without a configured key is refused, since replicas must agree on it."""
    return resolve_key(configured, home / "secret.key", setting="KILN_SECRET_KEY", embedded=embedded)


def resolve_audit_key(configured: str | None, home: Path, *, embedded: bool) -> str:
    """``KILN_AUDIT_KEY`` when set, else (embedded installs only) ``$KILN_HOME/audit.key``: the HMAC
    key of the audit chain, kept outside the database so a database writer cannot re-seal a forgery."""
    return resolve_key(configured, home / "audit.key", setting="KILN_AUDIT_KEY", embedded=embedded)


def resolve_key(configured: str | None, path: Path, *, setting: str, embedded: bool) -> str:
    if configured:
        if len(configured) < MIN_KEY_LENGTH:
            raise ValueError(f"{setting} must be at least {MIN_KEY_LENGTH} characters")
        return configured
    if not embedded:
        raise ValueError(f"set {setting} ({MIN_KEY_LENGTH}+ random characters) when using a shared database")
    if path.exists():
        stored = path.read_text().strip()
        if len(stored) >= MIN_KEY_LENGTH:
            return stored
        if stored:
            # Someone wrote this key on purpose: replacing it would silently void what it signed.
            raise ValueError(
                f"{path} holds a key of {len(stored)} characters; it needs at least {MIN_KEY_LENGTH}: "
                f"replace it with a longer random key, or delete it to have one generated"
            )
        # Empty: nothing can have been signed with it (empty keys are refused), so make a new one.
        log.warning("security.empty_key_file_replaced", path=str(path))
        path.unlink()
    return _generate_key_file(path, setting)


def _generate_key_file(path: Path, setting: str) -> str:
    """Write a new random key to ``path`` (0600) atomically: a crash leaves no empty file, and when two
    processes start at once the first link wins and both use its key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return path.read_text().strip()
    finally:
        draft.unlink(missing_ok=True)
    log.warning("security.key_generated", path=str(path), hint=f"set {setting} in production")
    return key
