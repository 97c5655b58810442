"""Model versions over HTTP: a multipart upload streamed from disk, a zip download verified per file."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from kiln.client.artifacts import CHUNK_SIZE, Progress
from kiln.client.transport import RETRY_STATUSES, ServerUnreachable, Transport
from kiln.core.errors import ChecksumMismatch, Invalid
from kiln.registry.model_format import DESCRIPTOR_FILE, FILE_NAME
from kiln.registry.schemas import ModelVersionRead

_PLAIN_NAME = re.compile(FILE_NAME)


def _part_header(boundary: str, name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
        kind = "Content-Type: application/octet-stream\r\n"
        return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode()
    return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()


def multipart_upload(
    transport: Transport,
    path: str,
    file: Path,
    fields: Mapping[str, str],
    *,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    retry_statuses: frozenset[int] = RETRY_STATUSES,
) -> Any:
    """POST ``file`` and ``fields`` as multipart/form-data, streamed from disk (retries restart it)."""
    boundary = uuid.uuid4().hex
    head = b"".join(
        _part_header(boundary, key, None) + value.encode() + b"\r\n" for key, value in fields.items()
    )
    head += _part_header(boundary, "file", file.name)
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = file.stat().st_size

    def body() -> Iterator[bytes]:
        yield head
        done = 0
        if progress:
            progress(file.name, 0, size)
        with file.open("rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                done += len(chunk)
                if progress:
                    progress(file.name, done, size)
                yield chunk
        yield tail

    content: Callable[[], Iterable[bytes]] = body
    return transport.request(
        "POST",
        path,
        params=dict(params or {}),
        content=content,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        },
        retry_statuses=retry_statuses,
    )


def json_field(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


def download_version(
    transport: Transport,
    path: str,
    version: ModelVersionRead,
    target: Path,
    *,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Download the version's zip and unpack it into ``target``, checking every file's sha256."""
    target.mkdir(parents=True, exist_ok=True)
    handle, spooled = tempfile.mkstemp(prefix="kiln-model-", suffix=".zip")
    name = f"{version.model_name}-{version.label or version.number}.zip"
    try:
        with (
            os.fdopen(handle, "wb") as out,
            transport.stream("GET", path, params=dict(params or {})) as response,
        ):
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            if progress:
                progress(name, 0, total)
            try:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(name, done, total)
            except httpx.TransportError as exc:
                raise ServerUnreachable(f"download of {name!r} was interrupted: {exc}") from exc
        _unpack_verified(Path(spooled), version, target)
    finally:
        Path(spooled).unlink(missing_ok=True)
    return target


def _unpack_verified(archive: Path, version: ModelVersionRead, target: Path) -> None:
    expected = {item.path: item.sha256 for item in version.files}
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        if names != {*expected, DESCRIPTOR_FILE}:
            raise ChecksumMismatch(
                f"the download of {version.model_name} version {version.number} holds {sorted(names)}, "
                f"not the registered files {sorted(expected)}"
            )
        for member in sorted(names):
            if not _PLAIN_NAME.match(member):
                raise Invalid(f"the download holds {member!r}, which is not a plain file name")
            data = zipped.read(member)
            if member in expected and hashlib.sha256(data).hexdigest() != expected[member]:
                raise ChecksumMismatch(
                    f"{member!r} of {version.model_name} version {version.number} arrived altered "
                    "(its sha256 differs from the registry's); nothing was kept",
                    details={"file": member},
                )
            (target / member).write_bytes(data)
