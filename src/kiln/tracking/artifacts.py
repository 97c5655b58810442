"""Run artifacts: where they live in the store and what the database records of them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.db import upsert_rows
from kiln.core.errors import NotFound
from kiln.core.ids import utcnow
from kiln.storage.paths import safe_relpath
from kiln.storage.store import StoredObject
from kiln.tracking.access import require_run_access
from kiln.tracking.models import RunArtifact
from kiln.tracking.service import require_running


def artifact_key(run_id: str, path: str) -> str:
    return f"runs/{run_id}/artifacts/{safe_relpath(path)}"


def prepare_upload(session: Session, actor: Actor, run_id: str, path: str) -> str:
    """Check the run accepts the artifact before any byte is read; returns the store key."""
    key = artifact_key(run_id, path)
    require_running(session, actor, run_id, permission="artifacts:write")
    return key


def record_artifact(
    session: Session, actor: Actor, run_id: str, path: str, stored: StoredObject
) -> RunArtifact:
    require_running(session, actor, run_id, permission="artifacts:write")
    relpath = safe_relpath(path)
    upsert_rows(
        session,
        RunArtifact.__table__,
        [
            {
                "run_id": run_id,
                "path": relpath,
                "size": stored.size,
                "sha256": stored.sha256,
                "created_at": utcnow(),
            }
        ],
        key=["run_id", "path"],
        update=["size", "sha256", "created_at"],
    )
    audit.record(
        session,
        actor,
        "artifact.stored",
        "run",
        run_id,
        {"path": relpath, "size": stored.size, "sha256": stored.sha256},
    )
    return get_artifact(session, actor, run_id, relpath)


def get_artifact(session: Session, actor: Actor, run_id: str, path: str) -> RunArtifact:
    relpath = safe_relpath(path)
    require_run_access(session, actor, run_id, "artifacts:read")
    artifact = session.get(RunArtifact, (run_id, relpath))
    if artifact is None:
        raise NotFound(f"run {run_id!r} has no artifact {relpath!r}")
    session.refresh(artifact)
    return artifact


def list_artifacts(
    session: Session, actor: Actor, run_id: str, *, prefix: str | None = None
) -> list[RunArtifact]:
    require_run_access(session, actor, run_id, "artifacts:read")
    query = select(RunArtifact).where(RunArtifact.run_id == run_id).order_by(RunArtifact.path)
    if prefix:
        query = query.where(RunArtifact.path.startswith(safe_relpath(prefix), autoescape=True))
    return list(session.scalars(query))
