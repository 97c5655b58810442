"""``kiln models ...``: list, show, register, download and search registered models (over the SDK)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from kiln.cli import remote
from kiln.cli.artifacts import transfer_bars
from kiln.cli.output import console, format_time, format_value, handle_errors, new_table
from kiln.registry.model_format import FieldSpec
from kiln.registry.schemas import ComparisonRow, ModelVersionRead, VersionComparison

models_app = typer.Typer(help="Register, find and download models.", no_args_is_help=True)

Project = Annotated[str | None, typer.Option("--project", "-p", help="Project id or name.")]


def _versions_table(versions: list[ModelVersionRead]) -> None:
    table = new_table("Model", "Version", "Label", "Stage", "Status", "Metrics", "Created")
    for version in versions:
        metrics = ", ".join(f"{key}={format_value(value)}" for key, value in sorted(version.metrics.items()))
        table.add_row(
            escape(version.model_name),
            str(version.number),
            escape(version.label or ""),
            version.stage.value,
            version.status.value,
            escape(metrics),
            format_time(version.created_at),
        )
    console.print(table)


@models_app.command("list")
@handle_errors
def list_models(ctx: typer.Context, project: Project = None) -> None:
    """The registered models you can see, with their latest version and what is in production."""
    with remote.client(ctx) as client:
        models = client.models.list(project=project)
    table = new_table("Name", "Versions", "Latest", "Production", "Description")
    for model in models:
        production = ", ".join(str(n) for n in model.stages.get("production", []))
        table.add_row(
            escape(model.name),
            str(model.version_count),
            str(model.latest_version),
            production,
            escape(model.description[:60]),
        )
    console.print(table)


@models_app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Argument(help="Version: number, label, stage or @alias.")] = None,
    project: Project = None,
) -> None:
    """A model's versions, or one version's metadata, signature and files with checksums."""
    with remote.client(ctx) as client:
        if version is None:
            _versions_table(list(client.models.versions(name, project=project)))
            return
        read = client.models.version(name, version, project=project)
    console.print(f"[bold]{escape(read.model_name)}[/] version {read.number} {escape(read.label or '')}")
    for key, value in [
        ("id", read.id),
        ("stage", read.stage.value),
        ("status", read.status.value),
        ("flavor", f"{read.flavor} ({read.serialization})"),
        ("estimator", read.estimator_class or ""),
        ("source", read.source),
        ("created", f"{format_time(read.created_at)} by {read.created_by}"),
        ("description", read.description),
    ]:
        console.print(f"  {key:<12} {escape(str(value))}")
    if read.params or read.metrics:
        table = new_table("Kind", "Key", "Value")
        for key, text in sorted(read.params.items()):
            table.add_row("param", escape(key), escape(text))
        for key, number in sorted(read.metrics.items()):
            table.add_row("metric", escape(key), format_value(number))
        console.print(table)
    inputs = new_table("Input", "Type", "Required", "Default", "Min", "Max", "Description")
    for field in read.signature.inputs:
        inputs.add_row(
            escape(field.name),
            field.type.value,
            "yes" if field.required else "no",
            escape(format_value(field.default)) if field.default is not None else "",
            format_value(field.minimum) if field.minimum is not None else "",
            format_value(field.maximum) if field.maximum is not None else "",
            escape(field.description),
        )
    console.print(inputs)
    files = new_table("File", "Size", "SHA-256")
    for item in read.files:
        files.add_row(escape(item.path), f"{item.size:,}", item.sha256)
    console.print(files)


@models_app.command("register")
@handle_errors
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name (created when new).")],
    source: Annotated[str, typer.Argument(help="runs:/<run_id>/model, a model file, or a model folder.")],
    label: Annotated[str | None, typer.Option("--label", "-l", help="Version label, e.g. 1.0.0.")] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    inputs: Annotated[
        Path | None, typer.Option("--inputs", help="JSON file listing the inputs (name, type, ranges, ...).")
    ] = None,
    draft: Annotated[bool, typer.Option("--draft/--ready", help="Uploads: save as a draft first.")] = False,
    project: Project = None,
) -> None:
    """Register a version from a run's model folder or by uploading a model file or folder."""
    with remote.client(ctx) as client:
        if source.startswith("runs:/"):
            run_id, _, folder = source.removeprefix("runs:/").partition("/")
            version = client.models.register_from_run(
                name, run_id, folder=folder or "model", label=label, description=description, project=project
            )
        else:
            specs = None
            if inputs is not None:
                specs = [FieldSpec.model_validate(item) for item in json.loads(inputs.read_text())]
            with transfer_bars() as bars:
                version = client.models.upload(
                    name,
                    Path(source),
                    label=label,
                    description=description,
                    inputs=specs,
                    draft=draft,
                    project=project,
                    progress=bars,
                )
    what = f" ({escape(version.label)})" if version.label else ""
    console.print(
        f"Registered {escape(version.model_name)} version {version.number}{what}: {version.status.value}"
    )


@models_app.command("download")
@handle_errors
def download(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Version: number, label, stage or @alias.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write [default: ./NAME-VERSION].")
    ] = None,
    project: Project = None,
) -> None:
    """Download a whole version (its model folder), every file verified against its sha256."""
    target = out or Path.cwd() / f"{name}-{version}"
    with remote.client(ctx) as client, transfer_bars() as bars:
        folder = client.models.download(name, version, target, project=project, progress=bars)
    console.print(
        f"Downloaded {escape(name)} version {escape(version)} to {escape(str(folder))} (checksums verified)"
    )


@models_app.command("search")
@handle_errors
def search(
    ctx: typer.Context,
    filter: Annotated[str, typer.Argument(help='e.g. "params.max_depth = 5 and metrics.auc > 0.9"')],
    project: Project = None,
) -> None:
    """Find versions by name, label, tag, stage, hyperparameter and metric."""
    with remote.client(ctx) as client:
        _versions_table(list(client.models.search(filter, project=project)))


@models_app.command("compare")
@handle_errors
def compare(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Model name (the versions' model unless one says model:version).")
    ],
    versions: Annotated[
        list[str], typer.Argument(help="2 to 20 versions: number, label, stage, @alias or other_model:3.")
    ],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the comparison as CSV here.")] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    project: Project = None,
) -> None:
    """Versions side by side: params, metrics (best in bold), signature, training data, files."""
    if csv_file is not None and html_file is not None:
        raise typer.BadParameter("give --csv or --html, not both")
    export: tuple[Path, Literal["csv", "html"]] | None = (
        (csv_file, "csv") if csv_file is not None else (html_file, "html") if html_file is not None else None
    )
    with remote.client(ctx) as client:
        if export is not None:
            target, format = export
            client.models.compare_export(versions, model=name, path=target, format=format, project=project)
            console.print(f"Wrote the comparison ({format}) to {escape(str(target))}")
            return
        comparison = client.models.compare(versions, model=name, project=project)
    _comparison_table(comparison)


def _comparison_table(comparison: VersionComparison) -> None:
    """One column per version; a row that differs is marked with ≠, the best metric is bold."""
    table = new_table("", "Field", *[escape(version.ref) for version in comparison.versions])
    for key, values in [
        ("stage", [version.stage.value for version in comparison.versions]),
        ("flavor", [version.flavor for version in comparison.versions]),
        ("size", [str(version.size_bytes) for version in comparison.versions]),
        ("created", [format_time(version.created_at) for version in comparison.versions]),
        ("run", [version.source_run_id or "" for version in comparison.versions]),
    ]:
        table.add_row("", key, *[escape(value) for value in values])
    _section_rows(table, "param", comparison.params)
    for metric in comparison.metrics:
        cells = []
        for index, value in enumerate(metric.values):
            text = "-" if value is None else format_value(value)
            delta = metric.delta[index]
            if index and delta is not None:
                text += f" ({delta:+.4g})"
            cells.append(f"[bold]{text}[/]" if index in metric.best else text)
        table.add_row("≠" if metric.differs else "", f"metric {escape(metric.key)}", *cells)
    _section_rows(table, "signature", comparison.signature)
    _section_rows(table, "data", comparison.training_data)
    _section_rows(table, "files", comparison.files)
    console.print(table)
    console.print("Significance: not available (" + escape(comparison.significance.reason) + ")")


def _section_rows(table: Table, section: str, rows: list[ComparisonRow]) -> None:
    for row in rows:
        cells = [escape(value) if value is not None else "-" for value in row.values]
        table.add_row("≠" if row.differs else "", f"{section} {escape(row.key)}", *cells)
