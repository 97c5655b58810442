"""An uploaded model, made into a model folder: a zip of a folder, or one model file plus its inputs.

The upload (already spooled to a local file) becomes a flat folder with a ``kiln-model.json``:
- a ``.zip`` is a model folder as ``save_model`` writes it (its members may sit in one top folder);
- a single ``.skops`` / ``.onnx`` (or, trusted only, ``.pkl`` / ``.joblib``) file gets a descriptor
  built from the input definitions the uploader gave.
Everything is checked before a byte reaches the store: member names (no folders, links or
traversal), sizes (no zip bombs), the descriptor, and that the payload is what it claims to be.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from pathlib import Path

from kiln.core.errors import Invalid, PayloadTooLarge
from kiln.registry.model_format import (
    DESCRIPTOR_FILE,
    FILE_NAME,
    Flavor,
    ModelDescriptor,
    Serialization,
    Signature,
    parse_descriptor,
)
from kiln.storage.store import CHUNK_SIZE

MAX_MEMBERS = 1000
# A model file's type by its extension: (flavor, serialization).
_BY_EXTENSION: dict[str, tuple[Flavor, Serialization]] = {
    ".skops": (Flavor.sklearn, Serialization.skops),
    ".onnx": (Flavor.onnx, Serialization.onnx),
    ".pkl": (Flavor.sklearn, Serialization.pickle),
    ".pickle": (Flavor.sklearn, Serialization.pickle),
    ".joblib": (Flavor.sklearn, Serialization.joblib),
}
_FILE_NAME = re.compile(FILE_NAME)


def _too_large(name: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"model file {name!r} is larger than the limit of {limit} bytes (KILN_MAX_MODEL_FILE_BYTES)",
        details={"file": name, "limit_bytes": limit},
    )


def unpack_upload(
    upload: Path, filename: str, folder: Path, *, signature: Signature | None, max_file_bytes: int
) -> ModelDescriptor:
    """Turn the spooled ``upload`` (named ``filename`` by the client) into a model folder in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    base = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if base.lower().endswith(".zip"):
        descriptor = _unzip(upload, folder, max_file_bytes=max_file_bytes)
        if signature is not None:
            descriptor = descriptor.model_copy(update={"signature": signature})
        return descriptor
    return _single_file(upload, base, folder, signature=signature, max_file_bytes=max_file_bytes)


def _single_file(
    upload: Path, name: str, folder: Path, *, signature: Signature | None, max_file_bytes: int
) -> ModelDescriptor:
    extension = Path(name).suffix.lower()
    if extension not in _BY_EXTENSION:
        raise Invalid(
            f"{name!r} is not a model file Kiln knows: upload a .skops or .onnx file (or .pkl/.joblib on a "
            "server that trusts pickle), or a .zip of a model folder with its kiln-model.json",
            details={"file": name},
        )
    if not _FILE_NAME.match(name):
        raise Invalid(f"model file name {name!r} may hold letters, digits and . _ - only; rename it")
    flavor, serialization = _BY_EXTENSION[extension]
    size = upload.stat().st_size
    if size > max_file_bytes:
        raise _too_large(name, max_file_bytes)
    if size == 0:
        raise Invalid(f"model file {name!r} is empty")
    digest = hashlib.sha256()
    with upload.open("rb") as source, (folder / name).open("wb") as target:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            target.write(chunk)
    return ModelDescriptor(
        flavor=flavor,
        payload=name,
        serialization=serialization,
        signature=signature or Signature(),
        checksums={name: digest.hexdigest()},
    )


def _unzip(upload: Path, folder: Path, *, max_file_bytes: int) -> ModelDescriptor:
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Invalid(
            f"the upload is not a readable zip archive ({exc}); zip the model folder again"
        ) from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise Invalid(f"the zip holds {len(members)} files; a model folder holds at most {MAX_MEMBERS}")
        prefix = _common_folder([info.filename for info in members])
        for info in members:
            name = info.filename[len(prefix) :]
            if not _FILE_NAME.match(name) or "/" in name:
                raise Invalid(
                    f"zip member {info.filename!r} is not a plain file of the model folder "
                    "(no sub-folders, absolute paths or '..'); zip the folder's files only",
                    details={"member": info.filename},
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise Invalid(f"zip member {info.filename!r} is a symbolic link; links are refused")
            if info.file_size > max_file_bytes:
                raise _too_large(name, max_file_bytes)
            _extract(archive, info, folder / name, max_file_bytes)
    descriptor_path = folder / DESCRIPTOR_FILE
    if not descriptor_path.exists():
        raise Invalid(
            f"the zip holds no {DESCRIPTOR_FILE}: it is not a model folder (save one with kiln's "
            "save_model), or upload the model file itself with its input definitions"
        )
    return parse_descriptor(descriptor_path.read_bytes())


def _common_folder(names: list[str]) -> str:
    """``model/`` when every member sits in that one folder (a zipped folder), else ``""``."""
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    if len(tops) == 1 and all("/" in name for name in names):
        return f"{tops.pop()}/"
    return ""


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, max_file_bytes: int) -> None:
    # The declared size can lie: count what decompression actually yields.
    written = 0
    try:
        with archive.open(info) as source, target.open("wb") as out:
            while chunk := source.read(CHUNK_SIZE):
                written += len(chunk)
                if written > max_file_bytes:
                    raise _too_large(target.name, max_file_bytes)
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise Invalid(f"zip member {info.filename!r} is damaged or truncated ({exc}); zip it again") from None


def check_payload(folder: Path, descriptor: ModelDescriptor) -> None:
    """The payload is the kind of file the descriptor says (a truncated or renamed file is refused)."""
    if descriptor.payload is None:
        return
    path = folder / descriptor.payload
    if descriptor.serialization is Serialization.skops:
        _check_skops(path, descriptor.payload)
    elif descriptor.serialization is Serialization.onnx:
        _check_onnx(path, descriptor.payload)


def _check_skops(path: Path, name: str) -> None:
    from kiln.registry.flavors.skops_trust import skops_io

    # Reads the archive's schema without building any object: nothing from the file runs.
    try:
        skops_io().get_untrusted_types(file=path)
    except Exception as exc:  # skops raises zipfile, JSON and key errors for damaged files alike
        raise Invalid(
            f"{name!r} is not a readable skops file ({type(exc).__name__}: {exc}); it may be truncated "
            "or another kind of file: upload what skops.io.dump or save_model wrote",
            details={"file": name},
        ) from None


def _check_onnx(path: Path, name: str) -> None:
    try:
        import onnx
    except ImportError:  # the optional extra is not installed: only the bytes' presence is checked
        return
    try:
        onnx.checker.check_model(onnx.load(str(path)))
    except Exception as exc:  # onnx raises protobuf decode and checker errors alike
        raise Invalid(
            f"{name!r} is not a valid ONNX model ({type(exc).__name__}: {exc})", details={"file": name}
        ) from None
