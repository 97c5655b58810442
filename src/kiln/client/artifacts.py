"""Artifact transfer: uploads stream from the file, downloads stream to a file and check its sha256.

Neither ever holds a whole file in memory; a download that fails leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote

import httpx

from kiln.client.transport import ServerUnreachable, Transport
from kiln.core.errors import ChecksumMismatch, Invalid, NotFound
from kiln.tracking.schemas import ArtifactRead

CHUNK_SIZE = 1024 * 1024


class Progress(Protocol):
    """Told how far a transfer got: the artifact's path, bytes done so far, total bytes (if known)."""

    def __call__(self, name: str, done: int, total: int | None) -> None: ...


def artifact_url(run_id: str, path: str) -> str:
    return f"/runs/{quote(run_id, safe='')}/artifacts/{quote(path, safe='/')}"


def join_artifact_path(artifact_path: str | None, name: str) -> str:
    folder = (artifact_path or "").strip("/")
    return f"{folder}/{name}" if folder else name


def _file_chunks(
    path: Path, name: str, total: int, progress: Progress | None
) -> Callable[[], Iterable[bytes]]:
    def open_stream() -> Iterator[bytes]:
        done = 0
        if progress:
            progress(name, 0, total)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                done += len(chunk)
                if progress:
                    progress(name, done, total)
                yield chunk

    return open_stream


def upload_file(
    transport: Transport, run_id: str, local_path: Path, artifact_path: str | None, progress: Progress | None
) -> ArtifactRead:
    if not local_path.is_file():
        raise Invalid(f"{local_path} is not a file")
    target = join_artifact_path(artifact_path, local_path.name)
    size = local_path.stat().st_size
    data = transport.request(
        "PUT",
        artifact_url(run_id, target),
        content=_file_chunks(local_path, target, size, progress),
        # A declared length lets the server refuse an oversized upload before reading it.
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
    )
    return ArtifactRead.model_validate(data)


def upload_dir(
    transport: Transport, run_id: str, local_dir: Path, artifact_path: str | None, progress: Progress | None
) -> list[ArtifactRead]:
    if not local_dir.is_dir():
        raise Invalid(f"{local_dir} is not a folder")
    uploaded = []
    for path in sorted(p for p in local_dir.rglob("*") if p.is_file()):
        folder = path.parent.relative_to(local_dir).as_posix()
        target_folder = join_artifact_path(artifact_path, folder) if folder != "." else artifact_path
        uploaded.append(upload_file(transport, run_id, path, target_folder, progress))
    return uploaded


def _target_file(path: str, dest: str | Path | None) -> Path:
    name = PurePosixPath(path).name
    if dest is None:
        return Path.cwd() / name
    target = Path(dest)
    if target.is_dir() or str(dest).endswith(("/", os.sep)):
        return target / name
    return target


def download_file(
    transport: Transport, run_id: str, path: str, dest: str | Path | None, progress: Progress | None
) -> Path:
    target = _target_file(path, dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    with transport.stream("GET", artifact_url(run_id, path)) as response:
        expected = response.headers.get("x-checksum-sha256", "").lower()
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            digest = hashlib.sha256()
            done = 0
            with os.fdopen(handle, "wb") as out:
                if progress:
                    progress(path, 0, total)
                try:
                    for chunk in response.iter_bytes(CHUNK_SIZE):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(path, done, total)
                except httpx.TransportError as exc:
                    raise ServerUnreachable(f"download of {path!r} was interrupted: {exc}") from exc
            actual = digest.hexdigest()
            if expected and actual != expected:
                raise ChecksumMismatch(
                    f"artifact {path!r} arrived with sha256 {actual}, expected {expected}; nothing was saved",
                    details={"path": path, "expected": expected, "actual": actual},
                )
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    return target


def download_tree(
    transport: Transport,
    run_id: str,
    path: str,
    listed: list[ArtifactRead],
    dest: str | Path | None,
    progress: Progress | None,
) -> list[Path]:
    wanted = path.strip("/")
    exact = [a for a in listed if a.path == wanted]
    if exact:
        return [download_file(transport, run_id, wanted, dest, progress)]
    inside = [a for a in listed if a.path.startswith(f"{wanted}/")] if wanted else listed
    if not inside:
        raise NotFound(f"run {run_id!r} has no artifact or folder {path!r}")
    root = Path(dest) if dest is not None else Path.cwd()
    base = PurePosixPath(wanted).parent if wanted else PurePosixPath(".")
    paths = []
    for artifact in inside:
        relative = PurePosixPath(artifact.path).relative_to(base)
        target = (root / relative).resolve()
        # Paths come from the server; never let one write outside the chosen folder.
        if not target.is_relative_to(root.resolve()):
            raise Invalid(f"artifact path {artifact.path!r} would be written outside {root}")
        paths.append(download_file(transport, run_id, artifact.path, target, progress))
    return paths
