"""``kiln.register_model`` and ``kiln.load_model``: the registry from a script or a notebook.

``load_model("models:/fraud_detector/3")`` (or ``/1.0.0``, ``/production``, ``/@champion``: the
server resolves the reference) downloads the version once into a local cache, keyed by the
version's id, and loads it with the registry's own loader, which verifies every file's sha256
before anything is deserialised. A cached copy is reused only while its checksums still equal the
registry's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.client.api import Client, default_client
from kiln.core.errors import ChecksumMismatch, Invalid
from kiln.registry.model_format import DESCRIPTOR_FILE, parse_descriptor
from kiln.registry.schemas import ModelVersionRead

if TYPE_CHECKING:
    from kiln.registry.loaded_model import LoadedModel

URI_SCHEME = "models:/"


def parse_model_uri(uri: str) -> tuple[str, str]:
    """``models:/<name>/<version>`` -> (name, version); the version is a number, label, stage or @alias."""
    if not uri.startswith(URI_SCHEME):
        raise Invalid(
            f"{uri!r} is not a model URI; use models:/<name>/<version>, e.g. models:/fraud_detector/3"
        )
    name, _, version = uri[len(URI_SCHEME) :].strip("/").partition("/")
    if not name or not version or "/" in version:
        raise Invalid(f"{uri!r} names no version; use models:/{name or '<name>'}/<number|label|stage|@alias>")
    return name, version


def model_cache_dir() -> Path:
    """Where downloaded versions are kept: ``KILN_MODEL_CACHE``, else ``~/.cache/kiln/models``."""
    configured = os.environ.get("KILN_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "kiln" / "models"


def register_model(
    estimator: Any,
    name: str,
    *,
    X: Any = None,
    label: str | None = None,
    description: str = "",
    tags: Mapping[str, str] | None = None,
    project: str | None = None,
    client: Client | None = None,
) -> ModelVersionRead:
    """Save a fitted scikit-learn ``estimator`` (skops, with the signature taken from ``X``) and register it.

    >>> kiln.register_model(forest, "fraud_detector", X=X_train, label="1.0.0")
    """
    from kiln.client.sklearn_model import save_model

    client = client or default_client()
    with tempfile.TemporaryDirectory(prefix="kiln-register-") as workdir:
        folder = save_model(estimator, Path(workdir) / "model", X=X)
        return client.models.upload(
            name, folder, label=label, description=description, tags=tags, draft=False, project=project
        )


def _matches(folder: Path, version: ModelVersionRead) -> bool:
    descriptor_path = folder / DESCRIPTOR_FILE
    if not descriptor_path.is_file():
        return False
    try:
        descriptor = parse_descriptor(descriptor_path.read_bytes())
    except Invalid:
        return False
    return descriptor.checksums == {item.path: item.sha256 for item in version.files}


def download_model(
    uri: str, *, project: str | None = None, cache_dir: Path | None = None, client: Client | None = None
) -> Path:
    """The version's folder in the local cache (downloaded and verified when not there yet)."""
    client = client or default_client()
    name, reference = parse_model_uri(uri)
    version = client.models.version(name, reference, project=project)
    root = cache_dir or model_cache_dir()
    folder = root / version.id
    if _matches(folder, version):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version.id}-", dir=root))
    try:
        client.models.download(name, version.number, staging, project=project)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def load_model(
    uri: str,
    *,
    project: str | None = None,
    trust_pickle: bool = False,
    cache_dir: Path | None = None,
    client: Client | None = None,
) -> LoadedModel:
    """Load a registered version (``models:/fraud_detector/3``): ``.predict(records or a DataFrame)``.

    Every file is checked against the registry's sha256 before loading; an altered file raises
    ``kiln.ChecksumMismatch`` naming it. Pickle-family payloads load only with ``trust_pickle=True``.
    """
    from kiln.registry.loaded_model import load_model_folder

    client = client or default_client()
    folder = download_model(uri, project=project, cache_dir=cache_dir, client=client)
    name, reference = parse_model_uri(uri)
    version = client.models.version(name, reference, project=project)
    if not _matches(folder, version):
        raise ChecksumMismatch(f"the cached copy of {uri} in {folder} differs from the registry's; delete it")
    return load_model_folder(folder, trust_pickle=trust_pickle)
