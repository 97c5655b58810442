"""``kiln monitor show|drift``: a deployment's metrics (``monitor_show``) and its drift, from its stored
reports or computed now, over the SDK."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.monitor_show import show
from kiln.cli.output import console, format_time, handle_errors, new_table, styled_status
from kiln.monitoring.drift_schemas import DriftReport, DriftReportRead, DriftReportSummary, FeatureDrift

monitor_app = typer.Typer(
    help="Monitoring: metrics and drift of what deployments serve.", no_args_is_help=True
)
monitor_app.command("show")(handle_errors(show))


@monitor_app.command("drift")
@handle_errors
def drift(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="Deployment name.")],
    report_id: Annotated[
        str | None, typer.Option("--report", "-r", help="Show this stored report (default: the newest).")
    ] = None,
    now: Annotated[
        bool, typer.Option("--now", help="Compute drift of the last hour now instead of reading reports.")
    ] = False,
    window: Annotated[str | None, typer.Option("--window", "-w", help="1h or 1d reports only.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Stored reports listed, newest first.")] = 10,
) -> None:
    """Which features of a deployment moved, by how much, and whether retraining is recommended."""
    with remote.client(ctx) as client:
        if now:
            _print_report(client.monitoring.drift(deployment))
            return
        reports = list(client.monitoring.drift_reports(deployment, window=window, limit=limit))
        chosen = report_id or (reports[0].id if reports else None)
        detail = None if chosen is None else client.monitoring.drift_report(deployment, chosen)
    if not reports and detail is None:
        console.print(
            f"No stored drift reports of {escape(deployment)} yet (they follow each hour of traffic)."
        )
        return
    _print_reports(reports)
    if detail is not None:
        console.print(f"\nReport {detail.id}: {format_time(detail.start)} to {format_time(detail.end)}")
        _print_report(detail)


def _print_reports(reports: list[DriftReportSummary]) -> None:
    table = new_table("Id", "Window", "Start", "Rows", "Drifted share", "Retrain", "Drifted", ids=("Id",))
    for report in reports:
        table.add_row(
            report.id,
            "1d" if report.window_seconds == 86_400 else "1h",
            format_time(report.start),
            str(report.rows),
            f"{report.drifted_share:.0%}",
            styled_status("yes" if report.retrain_recommended else "no"),
            escape(", ".join(report.drifted_features)),
        )
    console.print(table)


def _print_report(report: DriftReport | DriftReportRead) -> None:
    table = new_table("Feature", "Kind", "Method", "Score", "Threshold", "PSI", "Rows", "Verdict")
    for feature in report.features:
        table.add_row(
            escape(feature.feature),
            feature.kind,
            "—" if feature.method is None else feature.method.value,
            _number(feature.score),
            _number(feature.threshold),
            _number(feature.psi),
            str(feature.current_count),
            _verdict(feature),
        )
    console.print(table)
    console.print(escape(report.summary))


def _verdict(feature: FeatureDrift) -> str:
    if feature.method is None:
        return "no data"
    return "[red]drifted[/red]" if feature.drifted else "[green]stable[/green]"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"
