"""Immutable uploads: spool a request body with a size limit, hash it, store it under a new key.

Every upload gets a key of its own, so no upload ever overwrites bytes that a committed database
row points to: a refused, failed or concurrent upload leaves every recorded object intact. The
caller records the returned key in its transaction (switching versions is that row update), and
deletes the object again if the transaction fails, or the superseded one after it commits.
Run artifacts use this; model versions and dataset files are meant to as well.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from typing import BinaryIO

import structlog
from anyio import to_thread

from kiln.core.errors import PayloadTooLarge
from kiln.storage.store import ArtifactStore, StoredObject

log = structlog.get_logger(__name__)


def _too_large(limit: int, what: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{what} exceeds the limit of {limit} bytes (KILN_MAX_UPLOAD_BYTES)", details={"limit_bytes": limit}
    )


def check_declared_size(content_length: str | None, max_bytes: int) -> None:
    """Refuse before reading a byte when the client announces more than the limit."""
    if content_length and content_length.isdigit() and int(content_length) > max_bytes:
        raise _too_large(max_bytes, f"upload of {content_length} bytes")


class SpooledUpload:
    """An upload written to a local temporary file while its size and sha256 are computed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        handle, self.path = tempfile.mkstemp(prefix="kiln-upload-")
        self._file: BinaryIO = os.fdopen(handle, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise _too_large(self.max_bytes, "upload")
        self._digest.update(chunk)
        self._file.write(chunk)

    async def consume(self, chunks: AsyncIterator[bytes]) -> None:
        async for chunk in chunks:
            self.write(chunk)
        self._file.flush()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def new_object_key(prefix: str) -> str:
    return f"{prefix.rstrip('/')}/{uuid.uuid4().hex}"


async def store_upload(
    store: ArtifactStore, chunks: AsyncIterator[bytes], *, prefix: str, max_bytes: int
) -> StoredObject:
    """Spool ``chunks`` (at most ``max_bytes``), then put them under a new key below ``prefix``."""
    upload = SpooledUpload(max_bytes)
    try:
        await upload.consume(chunks)
        key = new_object_key(prefix)
        return await to_thread.run_sync(
            lambda: store.put_file(upload.path, key, size=upload.size, sha256=upload.sha256)
        )
    finally:
        upload.close()


def discard(store: ArtifactStore, key: str) -> None:
    """Delete an object no committed row points to; a failure only leaves an orphan, so it is logged."""
    try:
        store.delete(key)
    except Exception:
        log.warning("storage.discard_failed", key=key, exc_info=True)
