"""The artifact store: one root (a local folder or ``s3://bucket/prefix``) reached through fsspec.

Writes hash while they copy, so every stored object has a sha256 and a size without a second read;
reads hash while they stream and fail loudly if the bytes changed since they were written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import structlog
from fsspec.core import url_to_fs

from kiln.core.errors import ChecksumMismatch, NotFound

log = structlog.get_logger(__name__)

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class ArtifactStore:
    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:
        self.root_url = root
        # Kept so work elsewhere (a pipeline step in another process) opens the same store.
        self.options = dict(storage_options or {})
        self.fs, self.root = url_to_fs(root, **(storage_options or {}))
        self.is_local = isinstance(self.fs, fsspec.implementations.local.LocalFileSystem)
        if self.is_local:
            self.fs.makedirs(self.root, exist_ok=True)

    def url_for(self, key: str) -> str:
        return f"{self.root_url.rstrip('/')}/{key}"

    def _full(self, key: str) -> str:
        return f"{self.root.rstrip('/')}/{key}"

    def put_file(self, local_path: str, key: str, *, size: int, sha256: str) -> StoredObject:
        """Copy an already-hashed local file into the store under ``key``."""
        if self.is_local:
            self._write_local(key, lambda partial: self.fs.put_file(local_path, partial))
        else:
            self.fs.put_file(local_path, self._full(key))
        return StoredObject(key=key, size=size, sha256=sha256)

    def _write_local(self, key: str, write: Callable[[str], object]) -> None:
        # Write beside the target, then rename: readers never see a half-written file.
        target = self._full(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Unique per upload: two uploads of one path in one process must not share a partial file.
        partial = f"{target}.partial-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            write(partial)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        digest = hashlib.sha256(data).hexdigest()
        if self.is_local:  # straight to the partial file beside the target: no temporary copy
            self._write_local(key, lambda partial: Path(partial).write_bytes(data))
            return StoredObject(key=key, size=len(data), sha256=digest)
        with tempfile.NamedTemporaryFile(prefix="kiln-bytes-") as tmp:
            tmp.write(data)
            tmp.flush()
            return self.put_file(tmp.name, key, size=len(data), sha256=digest)

    def iter_verified(self, key: str, *, sha256: str, size: int) -> Iterator[bytes]:
        """Stream an object's bytes; raise ``ChecksumMismatch`` if they were altered.

        The object is opened now, so a missing one fails before a response starts. The last chunk
        is held back until the whole object is hashed: a client never receives a complete body
        (its Content-Length satisfied) of altered bytes — its download fails instead.
        """
        try:
            handle = self.fs.open(self._full(key), "rb")
        except FileNotFoundError as exc:
            raise NotFound(f"artifact {key!r} is recorded but missing from the store") from exc
        return self._verified_chunks(handle, key, sha256=sha256, size=size)

    def _verified_chunks(self, handle: Any, key: str, *, sha256: str, size: int) -> Iterator[bytes]:
        digest = hashlib.sha256()
        seen = 0
        pending = b""
        with handle:
            while chunk := handle.read(CHUNK_SIZE):
                digest.update(chunk)
                seen += len(chunk)
                if seen > size:
                    break
                if pending:
                    yield pending
                pending = chunk
        if seen != size or digest.hexdigest() != sha256:
            log.error("storage.checksum_mismatch", key=key, expected=sha256, actual=digest.hexdigest())
            raise ChecksumMismatch(f"artifact {key!r} does not match its recorded checksum")
        if pending:
            yield pending

    def read_verified(self, key: str, *, sha256: str, size: int) -> bytes:
        return b"".join(self.iter_verified(key, sha256=sha256, size=size))

    def delete(self, key: str) -> None:
        """Remove one object; a missing one is fine (it may have been cleaned up already)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._full(key))

    def delete_prefix(self, prefix: str) -> None:
        path = self._full(prefix)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)
