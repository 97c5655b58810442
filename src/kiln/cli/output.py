"""How the CLI talks to people: rich tables on stdout, one-line errors on stderr, no tracebacks
for mistakes a user can fix."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiln.core.errors import KilnError

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, *, code: int = 1) -> typer.Exit:
    # Messages quote stored names (a run called '[/x]'): printed as text, never as markup.
    errors.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print an API error's message (``kiln.NotFound``, ``kiln.Conflict``, ...) and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except KilnError as exc:
            raise fail(exc.message) from None
        except OSError as exc:  # a local file that cannot be read or written
            raise fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)) from None

    return wrapper


def short_id(run_id: str) -> str:
    return run_id[-8:]


def format_time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"


def format_duration(start: datetime, end: datetime | None) -> str:
    if end is None:
        return "—"
    seconds = max((end - start).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return str(value) if math.isnan(value) or math.isinf(value) else f"{value:.6g}"
    return str(value)


STATUS_STYLE = {
    "running": "cyan",
    "finished": "green",
    "failed": "red",
    "killed": "yellow",
    # deployments, and the predictions they logged
    "active": "green",
    "stopped": "yellow",
    "ok": "green",
    "invalid": "yellow",
    "error": "red",
    # jobs
    "queued": "white",
    "succeeded": "green",
    "cancelled": "yellow",
    # alert rules and incidents
    "pending": "yellow",
    "firing": "red",
    "resolved": "green",
}


def styled_status(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


ID_WIDTH = 36  # a UUID: always shown whole, since people copy it into the next command


def new_table(
    *headers: str,
    ids: tuple[str, ...] = (),
    nowrap: tuple[str, ...] = (),
    values: tuple[str, ...] = (),
    **options: Any,
) -> Table:
    """A rich table that never cuts what people copy or compare.

    ``ids`` columns always show a whole UUID; ``nowrap`` columns (one short word) stay on one line;
    ``values`` columns (metrics, params) wrap mid-word rather than end in '…'.
    """
    table = Table(**options)
    for header in headers:
        if header in ids:
            table.add_column(header, min_width=ID_WIDTH, no_wrap=True)
        elif header in nowrap:
            table.add_column(header, no_wrap=True)
        elif header in values:
            table.add_column(header, overflow="fold")
        else:
            table.add_column(header)
    return table
