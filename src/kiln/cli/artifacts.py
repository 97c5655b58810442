"""``kiln artifacts ...``: list, upload and download run artifacts, with progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from kiln.cli import remote
from kiln.cli.output import console, fail, handle_errors, new_table

artifacts_app = typer.Typer(help="Upload, download and list run artifacts.", no_args_is_help=True)


class TransferBars:
    """One rich progress bar per file, fed by the SDK's progress callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, name: str, done: int, total: int | None) -> None:
        task = self.tasks.get(name)
        if task is None:
            # The description is rendered as markup: an artifact name is shown as typed.
            task = self.tasks[name] = self.progress.add_task(escape(name), total=total)
        self.progress.update(task, completed=done, total=total)


@contextmanager
def transfer_bars() -> Iterator[TransferBars]:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        yield TransferBars(progress)


@artifacts_app.command("list")
@handle_errors
def list_artifacts(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    prefix: Annotated[str | None, typer.Option("--prefix", help="Only paths starting with this.")] = None,
) -> None:
    """List a run's artifacts with size and checksum."""
    with remote.client(ctx) as client:
        artifacts = client.list_artifacts(run_id, prefix=prefix)
    table = new_table("Path", "Size", "SHA-256")
    for artifact in artifacts:
        table.add_row(escape(artifact.path), f"{artifact.size:,}", artifact.sha256)
    console.print(table)


@artifacts_app.command("upload")
@handle_errors
def upload(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id (the run must be running).")],
    path: Annotated[Path, typer.Argument(help="A file, or a folder to upload with its layout.")],
    artifact_path: Annotated[
        str | None, typer.Option("--artifact-path", "-a", help="Folder inside the run's artifacts.")
    ] = None,
) -> None:
    """Upload a file or a folder to a run (streamed, with progress)."""
    if not path.exists():
        raise fail(f"{path} does not exist")
    with remote.client(ctx) as client, transfer_bars() as bars:
        if path.is_dir():
            stored = client.upload_artifacts(run_id, path, artifact_path, progress=bars)
        else:
            stored = [client.upload_artifact(run_id, path, artifact_path, progress=bars)]
    for artifact in stored:
        console.print(
            f"Uploaded [bold]{escape(artifact.path)}[/] "
            f"({artifact.size:,} bytes, sha256 {artifact.sha256[:16]}…)"
        )


@artifacts_app.command("download")
@handle_errors
def download(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    path: Annotated[str, typer.Argument(help="Artifact path, or a folder of artifacts.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Target file or folder [default: current folder].")
    ] = None,
) -> None:
    """Download an artifact (or a folder of them); every file's sha256 is verified."""
    with remote.client(ctx) as client, transfer_bars() as bars:
        written = client.download_artifacts(run_id, path, out, progress=bars)
    for target in written:
        console.print(f"Saved [bold]{escape(str(target))}[/] (checksum verified)")
