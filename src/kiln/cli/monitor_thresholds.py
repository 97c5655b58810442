"""``kiln monitor thresholds``: a registered model's drift settings (or one version's), over the SDK."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, fail, format_time, handle_errors, new_table
from kiln.monitoring.drift_schemas import FeatureThresholds
from kiln.monitoring.drift_settings_schemas import DriftSettingsRead


def thresholds(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="One version's own settings.")
    ] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project id or name.")] = None,
    file: Annotated[
        str | None,
        typer.Option("--set", help="Replace them with this JSON document ('-': standard input)."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Drop these settings: the model's, or the defaults, apply.")
    ] = False,
) -> None:
    """Show or set the drift thresholds a model's reports use (per feature, default, ignored)."""
    with remote.client(ctx) as client:
        if clear:
            client.monitoring.clear_drift_settings(model, version=version, project=project)
            console.print(f"Drift settings of {escape(_whose(model, version))} cleared.")
            return
        if file is not None:
            settings = client.monitoring.set_drift_settings(
                model, _document(file), version=version, project=project
            )
            console.print(f"Drift settings of {escape(_whose(model, version))} stored.")
        else:
            settings = client.monitoring.drift_settings(model, version=version, project=project)
    _print_settings(settings)


def _document(file: str) -> dict[str, Any]:
    text = sys.stdin.read() if file == "-" else _read(file)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"--set {file}: not JSON ({exc})", code=2) from exc
    if not isinstance(document, dict):
        raise fail(f'--set {file}: a JSON object, such as {{"ignore": ["id"]}}', code=2)
    return document


def _read(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"--set {file}: {exc.strerror or exc}", code=2) from exc


def _print_settings(settings: DriftSettingsRead) -> None:
    found = settings.thresholds
    table = new_table("Feature", "Method", "p-value", "Wasserstein", "Jensen-Shannon", "PSI")
    rows = [("(default)", found.default), *sorted(found.features.items())]
    for name, limits in rows:
        table.add_row(escape(name), *_limits(limits))
    console.print(table)
    whose = {"version": "the version's own", "model": "the model's", "defaults": "Kiln's defaults"}
    updated = "" if settings.updated_at is None else f", {format_time(settings.updated_at)}"
    by = "" if not settings.updated_by else f" by {settings.updated_by}"
    console.print(f"Source: {whose[settings.source.value]}{updated}{escape(by)}.")
    console.print(
        f"Ignored: {escape(', '.join(found.ignore)) or 'none'}; a test decides up to "
        f"{found.small_window} values; dataset drift at {found.drifted_share:.0%} of the features."
    )


def _limits(limits: FeatureThresholds) -> tuple[str, ...]:
    return (
        limits.method.value,
        f"{limits.p_value:g}",
        f"{limits.wasserstein:g}",
        f"{limits.jensen_shannon:g}",
        f"{limits.psi:g}",
    )


def _whose(model: str, version: int | None) -> str:
    return model if version is None else f"{model} v{version}"


def add_threshold_commands(app: typer.Typer) -> None:
    """``kiln monitor thresholds`` (one line in cli/main.py)."""
    app.command("thresholds")(handle_errors(thresholds))
