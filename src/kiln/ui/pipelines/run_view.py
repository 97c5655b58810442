"""What the run page and its live refresh read, from the pipelines service: the run with its
steps, each step's log tail, the version's DAG drawing and the timeline's bars. The page and the
JSON it polls are built from one ``RunView``, so they never disagree on a state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.pipelines import runs, service
from kiln.pipelines.schemas import FINISHED_RUN_STATES, PipelineRunRead
from kiln.ui.dag_layout import DagLayout
from kiln.ui.pipelines.dag_view import spec_drawing

# The page shows (and each poll sends) the end of each step's log; `kiln pipelines logs` has all of it.
LOG_TAIL = 200


@dataclass(frozen=True, slots=True)
class LogTail:
    step: str
    lines: list[str]
    total: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def count(self) -> str:
        shown = len(self.lines)
        return f"last {shown} of {self.total} lines" if shown < self.total else f"{self.total} lines"


@dataclass(frozen=True, slots=True)
class RunView:
    run: PipelineRunRead
    logs: list[LogTail]
    drawing: DagLayout
    bars: list[dict[str, Any]]

    @property
    def ended(self) -> bool:
        return self.run.state in FINISHED_RUN_STATES

    @property
    def states(self) -> dict[str, str]:
        return {step.name: step.state.value for step in self.run.steps}


def timeline(run: PipelineRunRead) -> list[dict[str, Any]]:
    """Each step that started, as a bar: offset and width in percent of the run's span."""
    started = [step for step in run.steps if step.started_at is not None]
    if not started:
        return []
    begin = min(step.started_at for step in started if step.started_at is not None)
    ends = [step.finished_at or step.started_at for step in started]
    end = max(moment for moment in ends if moment is not None)
    span = max((end - begin).total_seconds(), 1e-6)
    bars = []
    for step in started:
        assert step.started_at is not None
        finish = step.finished_at or end
        offset = (step.started_at - begin).total_seconds() / span * 100
        width = max((finish - step.started_at).total_seconds() / span * 100, 0.5)
        bars.append(
            {"name": step.name, "state": step.state.value, "left": round(offset, 2), "width": round(width, 2)}
        )
    return bars


def load_run_view(session: Session, actor: Actor, name: str, run_id: str) -> RunView:
    """``NotFound`` for a run the actor's projects do not hold, as on every pipelines page."""
    pipeline, run = runs.get_run(session, actor, name, run_id)
    read = runs.run_read(session, pipeline, run)
    spec = service.version_spec(service.get_version(session, pipeline, read.version))
    logs = [
        LogTail(log.step, log.lines[-LOG_TAIL:], len(log.lines))
        for log in runs.run_logs(session, actor, name, run_id)
    ]
    return RunView(read, logs, spec_drawing(spec), timeline(read))
