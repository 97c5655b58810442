"""Kiln demo, part 5: the pipeline ``congestion_training`` turns the telemetry version into a model.

Registers ``examples.congestion_pipeline:congestion_training`` (the server imports step functions only
from ``KILN_PIPELINE_MODULES``, default ``examples``), runs it once on the latest telemetry version and
waits: load -> validate -> three candidates at once -> evaluate -> register the best as
``congestion_classifier``. Prints each step's timings, then makes a cron schedule that retrains it
every night at 02:00 Paris time (a ``pipelines.scheduled`` job per fire) and says when it fires next.

    PYTHONPATH=. KILN_URL=... KILN_TOKEN=<key> python examples/run_congestion_pipeline.py

(from the repository root; the server, started the same way, imports the steps from there).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from examples.congestion_pipeline import congestion_training

import kiln

PIPELINE = "congestion_training"
SCHEDULE = "nightly-congestion-training"
ZONE = "Europe/Paris"
_STAMP = re.compile(r"^.*?\d{2}:\d{2}:\d{2}(\.\d+)?Z \S+ ")  # a log line's UTC time and level


def main() -> None:
    client = kiln.Client()
    registered = client.pipelines.register(congestion_training)
    print(f"pipeline {PIPELINE}: v{registered.number}")
    started = client.pipelines.run(PIPELINE, {"dataset": "telemetry@latest"})
    run = client.pipelines.wait(PIPELINE, started.id, timeout=300)
    print(
        f"run {run.id[:8]}: {run.state.value} in {(run.finished_at - run.started_at).total_seconds():.1f} s"
    )
    for step in run.steps:
        wall = f"{step.wall_seconds:.2f} s" if step.wall_seconds is not None else "-"
        begun = step.started_at.strftime("%H:%M:%S.%f")[:-4] if step.started_at else "-"
        print(f"  {step.name:<10} {step.state.value:<9} started {begun}  wall {wall}")
    if run.state.value != "succeeded":
        raise SystemExit(f"the pipeline run failed: {run.error}")
    # Step outputs live in the artifact store (the run shows where); what the steps said is in the logs.
    for log in client.pipelines.logs(PIPELINE, run.id):
        if log.step.startswith(("train", "register")):
            for line in log.lines:
                if "HTTP Request:" not in line:  # the SDK's own request lines
                    print(f"  {log.step}: {_STAMP.sub('', line)}")

    schedule = next(
        (s for s in client.schedules.iter(kind="pipelines.scheduled") if s.name == SCHEDULE), None
    )
    if schedule is None:
        schedule = client.schedules.create(
            SCHEDULE,
            "0 2 * * *",
            kind="pipelines.scheduled",
            payload={"pipeline": PIPELINE, "parameters": {"dataset": "telemetry@latest"}},
            time_zone=ZONE,
            catch_up="once",
            project_id=run.project_id,
        )
    fire = schedule.next_fire_at
    local = fire.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M %Z") if fire else "never"
    print(f"schedule {SCHEDULE}: cron '0 2 * * *' in {ZONE}, next fire {local} ({fire:%H:%M} UTC)")


if __name__ == "__main__":
    main()
