"""Where the store keeps an artifact's bytes: each upload has its own object, recorded in its row."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select

from kiln.app import kiln_state
from kiln.core.db import Database
from kiln.tracking.models import RunArtifact


def object_key(db: Database, run_id: str, path: str) -> str:
    with db.unit_of_work() as session:
        key = session.scalar(
            select(RunArtifact.object_key).where(RunArtifact.run_id == run_id, RunArtifact.path == path)
        )
    assert key is not None, f"run {run_id} has no artifact {path!r}"
    return key


def artifact_root(app: FastAPI) -> Path:
    return Path(kiln_state(app).store.root_url)


def stored_file(app: FastAPI, run_id: str, path: str) -> Path:
    """The local file holding the current version of a run's artifact."""
    return artifact_root(app) / object_key(kiln_state(app).db, run_id, path)


def run_files(app: FastAPI, run_id: str) -> set[Path]:
    """Every file the store holds for a run (any version, any leftover)."""
    return {path for path in (artifact_root(app) / "runs" / run_id).rglob("*") if path.is_file()}
