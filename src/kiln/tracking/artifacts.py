"""Run artifacts: what the database records of them, and the upload that stores and records one.

Each upload is stored under a key of its own (``runs/<id>/objects/<uuid>``) and the run_artifacts row
records that key, so replacing an artifact is the row update: a refused, failed or concurrent
upload never touches the bytes a committed row points to. Rows from before per-upload keys keep
their old key (``runs/<id>/artifacts/<path>``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.db import after_commit, upsert_rows
from kiln.core.errors import Conflict, NotFound
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.storage.paths import safe_relpath
from kiln.storage.store import ArtifactStore, StoredObject
from kiln.storage.uploads import discard, store_upload
from kiln.tracking.access import require_run_access
from kiln.tracking.models import RunArtifact
from kiln.tracking.schemas import ArtifactRead
from kiln.tracking.service import check_running, require_running


def object_prefix(run_id: str) -> str:
    return f"runs/{run_id}/objects"


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    artifact: ArtifactRead
    # The object the replaced version used: delete it once the transaction has committed.
    superseded_key: str | None


def _ancestors(relpath: str) -> list[str]:
    parts = relpath.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _refuse_file_folder_clash(session: Session, run_id: str, relpath: str) -> None:
    """``conf`` and ``conf/inner`` cannot both exist: one name is a file, the other a folder."""
    overlapping = [RunArtifact.path.startswith(f"{relpath}/", autoescape=True)]
    ancestors = _ancestors(relpath)
    if ancestors:
        overlapping.append(RunArtifact.path.in_(ancestors))
    clash = session.scalar(
        select(RunArtifact.path).where(RunArtifact.run_id == run_id, or_(*overlapping)).limit(1)
    )
    if clash is None:
        return
    if relpath.startswith(f"{clash}/"):
        message = f"artifact {clash!r} is a file, so {relpath!r} cannot be stored inside it as a folder"
    else:
        message = (
            f"{relpath!r} is a folder of artifacts (it holds {clash!r}); choose another name for the file"
        )
    raise Conflict(f"{message}; upload it under another path", details={"path": relpath, "existing": clash})


def check_upload(session: Session, actor: Actor, run_id: str, path: str) -> str:
    """Refuse an upload the run cannot take before any byte is read; returns the normalised path."""
    relpath = safe_relpath(path)
    check_running(session, actor, run_id, permission=Permission.artifacts_write)
    _refuse_file_folder_clash(session, run_id, relpath)
    return relpath


def record_artifact(
    session: Session, actor: Actor, run_id: str, path: str, stored: StoredObject
) -> tuple[RunArtifact, str | None]:
    """Point the artifact at ``stored``; returns the row and the key of the object it replaced."""
    relpath = safe_relpath(path)
    # Holds the run's row until commit: records for one run happen one after another.
    require_running(session, actor, run_id, permission=Permission.artifacts_write)
    _refuse_file_folder_clash(session, run_id, relpath)
    previous = session.scalar(
        select(RunArtifact.object_key).where(RunArtifact.run_id == run_id, RunArtifact.path == relpath)
    )
    upsert_rows(
        session,
        RunArtifact.__table__,
        [
            {
                "run_id": run_id,
                "path": relpath,
                "object_key": stored.key,
                "size": stored.size,
                "sha256": stored.sha256,
                "created_at": utcnow(),
            }
        ],
        key=["run_id", "path"],
        update=["object_key", "size", "sha256", "created_at"],
    )
    audit.record(
        session,
        actor,
        "artifact.stored",
        "run",
        run_id,
        {"path": relpath, "size": stored.size, "sha256": stored.sha256, "replaced": previous is not None},
    )
    return get_artifact(session, actor, run_id, relpath), previous


async def upload_artifact(
    session: Session,
    actor: Actor,
    store: ArtifactStore,
    run_id: str,
    path: str,
    chunks: AsyncIterator[bytes],
    *,
    max_bytes: int,
) -> StoredArtifact:
    """Check, stream into a new object, record it in ``session``'s transaction.

    The session is used from worker threads one call at a time, never concurrently. If recording
    fails the new object is deleted again; the replaced one is deleted once the transaction commits
    (never before: until then a committed row still points at it).
    """
    relpath = await to_thread.run_sync(lambda: check_upload(session, actor, run_id, path))
    stored = await store_upload(store, chunks, prefix=object_prefix(run_id), max_bytes=max_bytes)

    def record() -> StoredArtifact:
        try:
            row, previous = record_artifact(session, actor, run_id, relpath, stored)
        except BaseException:
            discard(store, stored.key)  # no committed row can point at it yet
            raise
        if previous:
            after_commit(session, lambda: discard(store, previous))
        return StoredArtifact(ArtifactRead.model_validate(row), previous)

    return await to_thread.run_sync(record)


def get_artifact(session: Session, actor: Actor, run_id: str, path: str) -> RunArtifact:
    relpath = safe_relpath(path)
    require_run_access(session, actor, run_id, Permission.artifacts_read)
    artifact = session.get(RunArtifact, (run_id, relpath))
    if artifact is None:
        raise NotFound(f"run {run_id!r} has no artifact {relpath!r}")
    session.refresh(artifact)
    return artifact


def list_artifacts(
    session: Session, actor: Actor, run_id: str, *, prefix: str | None = None
) -> list[RunArtifact]:
    require_run_access(session, actor, run_id, Permission.artifacts_read)
    query = select(RunArtifact).where(RunArtifact.run_id == run_id).order_by(RunArtifact.path)
    if prefix:
        query = query.where(RunArtifact.path.startswith(safe_relpath(prefix), autoescape=True))
    return list(session.scalars(query))
