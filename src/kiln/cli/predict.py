"""``kiln predict NAME --json '...' | --file rows.json|rows.jsonl|rows.csv``: predictions from a deployment.

Rows are records (``[{"amount": 80.0}, ...]``, or one ``{"amount": 80.0}``), columns
(``{"amount": [80.0, 10.0]}``) or the predict route's own body (``{"inputs": [...]}`` /
``{"columns": {...}}``). CSV cells that read as numbers are sent as numbers; empty cells are left
out (not given).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, format_value, handle_errors, new_table
from kiln.client.prediction_rows import predict_body
from kiln.serving.deployment_schemas import PredictResult

SHOWN_ROWS = 50  # a table longer than this helps nobody; --output json has them all


def _json_rows(text: str, where: str) -> Any:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{where} is not valid JSON: {exc}") from None
    if isinstance(document, dict) and len(document) == 1 and ("inputs" in document or "columns" in document):
        return next(iter(document.values()))  # the route's own body: its rows
    return document


def _cell(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _file_rows(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [
            {key: _cell(value or "") for key, value in row.items()}
            for row in csv.DictReader(text.splitlines())
        ]
    if suffix in (".jsonl", ".ndjson"):
        lines = [line for line in text.splitlines() if line.strip()]
        return [_json_rows(line, f"{path.name}, line {number}") for number, line in enumerate(lines, 1)]
    if suffix == ".json":
        return _json_rows(text, path.name)
    raise typer.BadParameter(f"{path.name}: give a .json, .jsonl or .csv file")


def read_rows(json_text: str | None, file: Path | None) -> Any:
    if (json_text is None) == (file is None):
        raise typer.BadParameter("give the rows with exactly one of --json or --file")
    rows = _json_rows(json_text, "--json") if json_text is not None else _file_rows(file)  # type: ignore[arg-type]
    try:
        predict_body(rows)  # the SDK's own check, here so a mistake is a usage error, not a traceback
    except (TypeError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    return rows


def _show(result: PredictResult) -> None:
    console.print(
        f"[bold]{escape(result.deployment)}[/]: {escape(result.model.name)} v{result.model_version} answered "
        f"{len(result.predictions)} row(s); request id {result.request_id}"
    )
    classes = result.classes or []
    with_probabilities = result.probabilities is not None and len(classes) > 0
    headers = ["#", "Prediction"]
    headers += [f"P({escape(str(label))})" for label in classes] if with_probabilities else []
    headers += ["Score"] if result.scores is not None else []
    table = new_table(*headers)
    for index, prediction in enumerate(result.predictions[:SHOWN_ROWS]):
        cells = [str(index), escape(format_value(prediction))]
        if with_probabilities and result.probabilities is not None:
            cells += ["" if p is None else f"{p:.3f}" for p in result.probabilities[index]]
        if result.scores is not None:
            cells.append(format_value(result.scores[index]))
        table.add_row(*cells)
    console.print(table)
    hidden = len(result.predictions) - SHOWN_ROWS
    if hidden > 0:
        console.print(f"... and {hidden} more (--output json prints them all)")


@handle_errors
def predict(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Deployment name.")],
    json_text: Annotated[
        str | None,
        typer.Option("--json", "-j", help='Rows as JSON: [{"field": value}, ...] or {"field": [...]}.'),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", "-f", exists=True, dir_okay=False, help="Rows in a .json, .jsonl or .csv file."
        ),
    ] = None,
    output: Annotated[
        Literal["table", "json"], typer.Option("--output", "-o", help="table, or the answer as JSON.")
    ] = "table",
) -> None:
    """Ask a deployment for predictions; each row is checked against the model's signature first."""
    rows = read_rows(json_text, file)
    with remote.client(ctx) as client:
        result = client.deployments.predict(name, rows)
    if output == "json":
        typer.echo(result.model_dump_json())
    else:
        _show(result)
