"""The model folder on disk: read its descriptor, check every file against it, write it.

Checksums are verified before any payload byte is deserialized: a file changed, missing or added
after the model was written refuses the load (``ChecksumMismatch`` naming the file) and is logged as
the security event ``security.checksum_mismatch``.
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import structlog

from kiln.core.errors import ChecksumMismatch, Invalid
from kiln.registry.model_format import DESCRIPTOR_FILE, ModelDescriptor, parse_descriptor

log = structlog.get_logger(__name__)
_CHUNK = 1024 * 1024
# A descriptor is a few kilobytes; a huge one is not a descriptor (and is not read into memory).
MAX_DESCRIPTOR_BYTES = 8 * 1024 * 1024


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks (model payloads can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def folder_checksums(folder: Path) -> dict[str, str]:
    """The sha256 of every file of ``folder`` except the descriptor (what the descriptor records)."""
    return {path.name: sha256_file(path) for path in sorted(_payload_files(folder))}


def read_descriptor(folder: Path) -> ModelDescriptor:
    """The folder's ``kiln-model.json`` (format 1 or 2, answered as 2)."""
    path = folder / DESCRIPTOR_FILE
    if not path.is_file():
        raise Invalid(f"{folder.name or folder} is not a model folder: it has no {DESCRIPTOR_FILE}")
    if path.stat().st_size > MAX_DESCRIPTOR_BYTES:
        raise Invalid(f"{DESCRIPTOR_FILE} is larger than {MAX_DESCRIPTOR_BYTES // (1024 * 1024)} MiB")
    return parse_descriptor(path.read_bytes())


def verify_checksums(folder: Path, descriptor: ModelDescriptor) -> None:
    """Every file listed is there with its recorded sha256, and no file is there that is not listed."""
    present = {path.name: path for path in _payload_files(folder)}
    for name, expected in sorted(descriptor.checksums.items()):
        path = present.pop(name, None)
        if path is None:
            raise _mismatch(folder, name, expected, None, f"{name} is missing from the model folder")
        actual = sha256_file(path)
        if actual != expected:
            raise _mismatch(folder, name, expected, actual, f"{name} does not match its recorded checksum")
    for name in sorted(present):
        raise _mismatch(folder, name, None, sha256_file(present[name]), f"{name} is not part of the model")


def _mismatch(
    folder: Path, name: str, expected: str | None, actual: str | None, what: str
) -> ChecksumMismatch:
    log.warning("security.checksum_mismatch", folder=str(folder), file=name, expected=expected, actual=actual)
    return ChecksumMismatch(
        f"refusing to load the model: {what} (the files changed after the model was written)",
        details={"file": name, "expected_sha256": expected, "actual_sha256": actual},
    )


def _payload_files(folder: Path) -> list[Path]:
    """The folder's files besides the descriptor; a link or a subfolder is refused outright."""
    if not folder.is_dir():
        raise Invalid(f"{folder} is not a folder")
    files = []
    for path in folder.iterdir():
        if path.name == DESCRIPTOR_FILE and not path.is_symlink():
            continue
        # A link could point anywhere on the machine; a model folder is flat (FILE_NAME in the format).
        if path.is_symlink() or not path.is_file():
            kind = "a symbolic link" if path.is_symlink() else "not a plain file"
            raise _mismatch_kind(folder, path.name, kind)
        files.append(path)
    return files


def _mismatch_kind(folder: Path, name: str, kind: str) -> ChecksumMismatch:
    log.warning("security.checksum_mismatch", folder=str(folder), file=name, expected=None, actual=None)
    return ChecksumMismatch(
        f"refusing to load the model: {name} is {kind}; a model folder holds plain files only",
        details={"file": name},
    )


def write_descriptor(folder: Path, **fields: Any) -> ModelDescriptor:
    """Checksum the folder's files and write ``kiln-model.json`` from ``fields`` (format 2)."""
    fields.setdefault("versions", library_versions())
    descriptor = ModelDescriptor.model_validate({**fields, "checksums": folder_checksums(folder)})
    (folder / DESCRIPTOR_FILE).write_text(descriptor.to_json())
    return descriptor


def library_versions(*extra: str) -> dict[str, str]:
    """Python's and the installed ML libraries' versions (what serving compares when a load fails)."""
    versions = {"python": platform.python_version()}
    for name, distribution in (
        ("sklearn", "scikit-learn"),
        ("skops", "skops"),
        ("numpy", "numpy"),
        ("pandas", "pandas"),
        *((name, name) for name in extra),
    ):
        try:
            versions[name] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return versions
