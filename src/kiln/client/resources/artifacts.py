"""``client.artifacts``: list, upload and download a run's artifacts (streamed, checksum-verified)."""

from __future__ import annotations

import builtins
from pathlib import Path

from kiln.client import artifacts as transfer
from kiln.client.resources.base import Resource, segment
from kiln.tracking.schemas import ArtifactRead


class ArtifactsResource(Resource):
    def list(self, run_id: str, *, prefix: str | None = None) -> builtins.list[ArtifactRead]:
        data = self.transport.request("GET", f"/runs/{segment(run_id)}/artifacts", params={"prefix": prefix})
        return [ArtifactRead.model_validate(item) for item in data]

    def upload(
        self,
        run_id: str,
        local_path: str | Path,
        artifact_path: str | None = None,
        *,
        progress: transfer.Progress | None = None,
    ) -> ArtifactRead:
        """Stream one file to ``{artifact_path}/{file name}`` in the run's artifacts."""
        return transfer.upload_file(self.transport, run_id, Path(local_path), artifact_path, progress)

    def upload_dir(
        self,
        run_id: str,
        local_dir: str | Path,
        artifact_path: str | None = None,
        *,
        progress: transfer.Progress | None = None,
    ) -> builtins.list[ArtifactRead]:
        """Upload every file under ``local_dir``, keeping the folder layout below ``artifact_path``."""
        return transfer.upload_dir(self.transport, run_id, Path(local_dir), artifact_path, progress)

    def download(
        self,
        run_id: str,
        path: str,
        dest: str | Path | None = None,
        *,
        progress: transfer.Progress | None = None,
    ) -> Path:
        """Stream one artifact to ``dest`` (a file, or a folder to put it in) and verify its sha256."""
        return transfer.download_file(self.transport, run_id, path, dest, progress)

    def download_tree(
        self,
        run_id: str,
        path: str,
        dest: str | Path | None = None,
        *,
        progress: transfer.Progress | None = None,
    ) -> builtins.list[Path]:
        """Download an artifact, or every artifact under a folder, into ``dest`` (default: cwd)."""
        listed = self.list(run_id, prefix=path)
        return transfer.download_tree(self.transport, run_id, path, listed, dest, progress)
