"""A version's files in the registry's own storage: copied in with their sha256, verified on the way out.

Registering copies the model folder (from a run's artifacts, an upload, or the SDK) under a prefix of
the version's own (``models/<model_id>/versions/<version_id>/``), hashing every file while it is
copied and comparing it with the checksum ``kiln-model.json`` lists, so a folder changed after it
was saved is refused before anything is recorded. The descriptor itself is not stored as a file: it
lives in ``model_versions.descriptor`` (its signature is editable in development) and is written
out again by ``materialize_version``, which streams every file back verifying its sha256. Whatever
reads a version's bytes (the staging gates, serving, downloads, the SDK's cache) goes through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from kiln.core.errors import ChecksumMismatch, Invalid, NotFound, PayloadTooLarge
from kiln.registry.model_format import DESCRIPTOR_FILE, ModelDescriptor
from kiln.registry.models import ModelVersion, ModelVersionFile
from kiln.registry.signature_check import check_folder_signature
from kiln.storage.store import CHUNK_SIZE, ArtifactStore

log = structlog.get_logger(__name__)

ChunkSource = Callable[[], Iterator[bytes]]


def version_prefix(model_id: str, version_id: str) -> str:
    return f"models/{model_id}/versions/{version_id}"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file of a version, as recorded in ``model_version_files``."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class SourceObject:
    """A file already in the store (a run artifact) to copy into a version: its folder name and object."""

    path: str
    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class VersionFiles:
    """What ``materialize_version`` needs: where the files are, which they are, and the descriptor."""

    storage_prefix: str
    files: tuple[StoredFile, ...]
    descriptor: dict[str, object]
    label: str = "model version"


def check_listed_files(names: Iterable[str], descriptor: ModelDescriptor) -> None:
    """The folder holds exactly the files its descriptor lists (besides the descriptor)."""
    present = {name for name in names if name != DESCRIPTOR_FILE}
    missing = sorted(set(descriptor.checksums) - present)
    if missing:
        raise Invalid(
            f"{DESCRIPTOR_FILE} lists {', '.join(map(repr, missing))} but the model folder does not hold it",
            details={"missing": missing},
        )
    extra = sorted(present - set(descriptor.checksums))
    if extra:
        raise Invalid(
            f"the model folder holds {', '.join(map(repr, extra))}, which {DESCRIPTOR_FILE} does not list "
            "under checksums; add its sha256 there or leave the file out",
            details={"unlisted": extra},
        )


def _check_size(path: str, size: int, max_file_bytes: int | None) -> None:
    if max_file_bytes is not None and size > max_file_bytes:
        raise PayloadTooLarge(
            f"model file {path!r} has {size} bytes, over the limit of {max_file_bytes} "
            "(KILN_REGISTRY_MAX_FILE_BYTES)",
            details={"file": path, "limit_bytes": max_file_bytes},
        )


def _check_digest(path: str, actual: str, descriptor: ModelDescriptor) -> None:
    expected = descriptor.checksums[path]
    if actual != expected:
        raise Invalid(
            f"model file {path!r} does not match the sha256 {DESCRIPTOR_FILE} lists for it "
            f"(listed {expected[:12]}..., found {actual[:12]}...): the folder changed after it was saved",
            details={"file": path, "expected": expected, "actual": actual},
        )


def _put_verified(
    store: ArtifactStore,
    chunks: Iterator[bytes],
    path: str,
    prefix: str,
    descriptor: ModelDescriptor,
    max_file_bytes: int | None,
) -> StoredFile:
    """Spool ``chunks`` to a temporary file while hashing, check them, then put them in the store."""
    digest = hashlib.sha256()
    size = 0
    handle, spool = tempfile.mkstemp(prefix="kiln-model-file-")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                _check_size(path, size, max_file_bytes)
                digest.update(chunk)
                out.write(chunk)
        _check_digest(path, digest.hexdigest(), descriptor)
        store.put_file(spool, f"{prefix}/{path}", size=size, sha256=digest.hexdigest())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spool)
    return StoredFile(path=path, size=size, sha256=digest.hexdigest())


def _local_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def copy_folder(
    store: ArtifactStore,
    folder: Path,
    descriptor: ModelDescriptor,
    prefix: str,
    *,
    max_file_bytes: int | None = None,
) -> list[StoredFile]:
    """Copy a local model folder's listed files under ``prefix``; on any failure nothing stays stored."""
    check_listed_files((entry.name for entry in folder.iterdir()), descriptor)
    for entry in folder.iterdir():
        if entry.name != DESCRIPTOR_FILE and (entry.is_symlink() or not entry.is_file()):
            raise Invalid(f"model file {entry.name!r} is not a regular file (folders and links are refused)")
    return _copy_all(
        store,
        prefix,
        [(name, partial(_local_chunks, folder / name)) for name in sorted(descriptor.checksums)],
        descriptor,
        max_file_bytes,
    )


def copy_objects(
    store: ArtifactStore,
    objects: Sequence[SourceObject],
    descriptor: ModelDescriptor,
    prefix: str,
    *,
    max_file_bytes: int | None = None,
) -> list[StoredFile]:
    """Copy stored objects (a run's model folder) under ``prefix``, verifying both recorded checksums."""
    check_listed_files((obj.path for obj in objects), descriptor)
    by_path = {obj.path: obj for obj in objects}
    sources: list[tuple[str, ChunkSource]] = []
    for name in sorted(descriptor.checksums):
        obj = by_path[name]
        _check_size(name, obj.size, max_file_bytes)
        sources.append((name, partial(store.iter_verified, obj.key, sha256=obj.sha256, size=obj.size)))
    return _copy_all(store, prefix, sources, descriptor, max_file_bytes)


def _copy_all(
    store: ArtifactStore,
    prefix: str,
    sources: list[tuple[str, ChunkSource]],
    descriptor: ModelDescriptor,
    max_file_bytes: int | None,
) -> list[StoredFile]:
    stored: list[StoredFile] = []
    try:
        for name, open_chunks in sources:
            stored.append(_put_verified(store, open_chunks(), name, prefix, descriptor, max_file_bytes))
    except BaseException:
        discard_prefix(store, prefix)
        raise
    return stored


def discard_prefix(store: ArtifactStore, prefix: str) -> None:
    """Delete a version's objects that no committed row points to; a failure leaves an orphan, logged."""
    try:
        store.delete_prefix(prefix)
    except Exception:
        log.warning("registry.discard_failed", prefix=prefix, exc_info=True)


def version_files(session: Session, version_id: str) -> list[ModelVersionFile]:
    return list(
        session.scalars(
            select(ModelVersionFile)
            .where(ModelVersionFile.version_id == version_id)
            .order_by(ModelVersionFile.path)
        )
    )


def files_of(version: ModelVersion) -> VersionFiles:
    """The stored files of a version loaded in a session (the session it was loaded with)."""
    session = object_session(version)
    if session is None:
        raise RuntimeError("materialize_version needs a version attached to a session, or VersionFiles")
    rows = version_files(session, version.id)
    return VersionFiles(
        storage_prefix=version.storage_prefix,
        files=tuple(StoredFile(row.path, row.size, row.sha256) for row in rows),
        descriptor=dict(version.descriptor),
        label=f"model version {version.id}",
    )


def materialize_version(store: ArtifactStore, version: ModelVersion | VersionFiles, target_dir: Path) -> Path:
    """Write a version's folder (its files and ``kiln-model.json``) into ``target_dir``, verifying every file.

    A file whose bytes no longer match their recorded sha256 is refused: ``ChecksumMismatch`` names
    it, a ``security.checksum_mismatch`` warning is logged, and the partial file is removed. Returns
    ``target_dir``.
    """
    files = version if isinstance(version, VersionFiles) else files_of(version)
    descriptor = ModelDescriptor.model_validate(files.descriptor)
    recorded = {item.path: item.sha256 for item in files.files}
    if recorded != descriptor.checksums:
        _refuse(files.label, "kiln-model.json", "its checksums differ from the recorded files")
    target_dir.mkdir(parents=True, exist_ok=True)
    for item in files.files:
        _download_verified(store, files, item, target_dir)
    (target_dir / DESCRIPTOR_FILE).write_text(descriptor.to_json())
    return target_dir


def check_stored_signature(
    store: ArtifactStore, files: VersionFiles, descriptor: ModelDescriptor, *, trust_pickle: bool
) -> None:
    """``descriptor``'s signature checked against the stored payload (materialised into a temp dir)."""
    if not descriptor.signature.inputs:
        return
    with tempfile.TemporaryDirectory(prefix="kiln-signature-check-") as workdir:
        folder = materialize_version(store, files, Path(workdir) / "model")
        check_folder_signature(folder, descriptor, trust_pickle=trust_pickle)


def _download_verified(store: ArtifactStore, files: VersionFiles, item: StoredFile, target_dir: Path) -> None:
    target = target_dir / item.path
    # Names are validated at registration (plain file names); checked again before writing anywhere.
    if target.resolve().parent != target_dir.resolve():
        raise Invalid(f"model file {item.path!r} is not a plain file name")
    incomplete = target_dir / f".{item.path}.partial"
    key = f"{files.storage_prefix}/{item.path}"
    try:
        chunks = store.iter_verified(key, sha256=item.sha256, size=item.size)
    except NotFound:
        raise NotFound(f"model file {item.path!r} of {files.label} is missing from the store") from None
    try:
        with incomplete.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(incomplete, target)
    except ChecksumMismatch:
        _refuse(files.label, item.path, "its bytes no longer match the sha256 recorded at registration")
    finally:
        with contextlib.suppress(FileNotFoundError):
            incomplete.unlink()


def _refuse(label: str, path: str, why: str) -> None:
    log.warning("security.checksum_mismatch", version=label, file=path, reason=why)
    raise ChecksumMismatch(
        f"refusing to load {path!r} of {label}: {why}", details={"file": path, "version": label}
    )


def read_version_file(session: Session, store: ArtifactStore, version_id: str, name: str) -> bytes | None:
    """One stored file of a version by name, its sha256 verified; None if the version has no such file.

    For the caller who already checked access to the version (it takes an id, not a reference)."""
    row = session.get(ModelVersionFile, (version_id, name))
    if row is None:
        return None
    version = session.get(ModelVersion, version_id)
    assert version is not None  # the file row's foreign key
    try:
        return store.read_verified(f"{version.storage_prefix}/{name}", sha256=row.sha256, size=row.size)
    except ChecksumMismatch:
        _refuse(
            f"model version {version_id}",
            name,
            "its bytes no longer match the sha256 recorded at registration",
        )
        raise


def version_descriptor(session: Session, version_id: str) -> dict[str, Any]:
    """The stored ``kiln-model.json`` of a version by id (for a caller who already checked access)."""
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound(f"model version {version_id} not found")
    return dict(version.descriptor)
