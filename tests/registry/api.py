"""HTTP helpers for the registry's API (they assert the status, so tests read as what a user does)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api import API


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, file.name)
    return buffer.getvalue()


def upload(
    client: TestClient,
    name: str,
    content: bytes,
    filename: str,
    *,
    expect: int = 201,
    inputs: list[dict[str, Any]] | None = None,
    **form: Any,
) -> dict[str, Any]:
    data = {key: str(value).lower() if isinstance(value, bool) else value for key, value in form.items()}
    if inputs is not None:
        data["inputs"] = json.dumps(inputs)
    response = client.post(
        f"{API}/models/{name}/versions/upload", files={"file": (filename, content)}, data=data
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def register_run(
    client: TestClient, name: str, run_id: str, *, expect: int = 201, **fields: Any
) -> dict[str, Any]:
    response = client.post(
        f"{API}/models/{name}/versions", json={"source": f"runs:/{run_id}/model", **fields}
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body
