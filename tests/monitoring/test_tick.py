"""The monitoring tick on the job queue: closed windows computed, late feedback taken in, one chain."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.core.ids import utcnow
from kiln.jobs.queue import enqueue, waiting_jobs
from kiln.jobs.worker import Worker
from kiln.monitoring.tasks import TICK, ensure_ticking
from kiln.monitoring.windows import window_start
from tests.api import API
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import classified, log_predictions

METRICS = f"{API}/monitoring/metrics"


def minute_points(client: TestClient, metric: str) -> dict[str, object]:
    since = (utcnow() - timedelta(hours=1)).isoformat()
    answer = client.get(
        METRICS, params={"deployment": "fraud", "metric": metric, "window": "1m", "from": since}
    )
    assert answer.status_code == 200, answer.text
    return {point["start"]: point["value"] for point in answer.json()["series"][0]["points"]}


def test_ticks_compute_closed_minutes_then_take_in_late_feedback(app: FastAPI, client: TestClient) -> None:
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    db = database(app)
    minute = window_start(utcnow() - timedelta(minutes=3), 60)
    request_ids = log_predictions(
        db,
        [
            classified(default_project_id(app), "1", 0.8, created_at=minute + timedelta(seconds=s))
            for s in range(4)
        ],
    )
    with db.unit_of_work() as session:
        enqueue(session, TICK, {"since": (minute - timedelta(minutes=5)).isoformat()})

    assert Worker(db, kinds=[TICK]).run_pending() == 1  # the next tick is not due until next minute
    key = minute.isoformat().replace("+00:00", "Z")
    assert minute_points(client, "requests")[key] == 4.0
    assert key not in minute_points(client, "accuracy")

    sent = client.post(
        f"{API}/predictions/feedback", json=[{"request_id": rid, "actual": "1"} for rid in request_ids[:2]]
    )
    assert sent.status_code == 200, sent.text
    later = Worker(db, kinds=[TICK], clock=lambda: utcnow() + timedelta(minutes=2))
    assert later.run_pending(limit=1) == 1
    assert minute_points(client, "accuracy")[key] == 1.0  # the two that got ground truth were right
    with db.unit_of_work() as session:
        assert waiting_jobs(session, TICK) == 1  # one chain of ticks, whatever ran


def test_starting_the_ticks_twice_keeps_one_chain(app: FastAPI) -> None:
    db = database(app)
    ensure_ticking(db)
    ensure_ticking(db)
    with db.unit_of_work() as session:
        assert waiting_jobs(session, TICK) == 1
