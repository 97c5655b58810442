"""Kiln demo, part 6: the congestion model in service, its inputs drift, monitoring says so.

Deploys the newest ``congestion_classifier`` version (the one the pipeline registered) as the
deployment ``congestion``; sends link readings like the training data, then readings of a degraded
upstream (``drift=0.8``: latency up ~50%, throughput down ~25%), 20 readings a request; reports the
observed congestion as feedback; computes this hour's stored drift report (the monitoring tick does it
for every closed hour) and prints its summary. An alert rule ``drift_share >= 0.3`` on 1-hour windows
(drift is reported per hour and per day) fires once the tick has judged this hour's stored report: the
script keeps the readings coming and waits for it (about a minute). A retraining trigger on that rule
then runs the training pipeline again: the script waits for that run (at most
``KILN_DEMO_RETRAIN_WAIT`` seconds) and prints the model version it registered.

    KILN_URL=... KILN_TOKEN=<key> python examples/monitor_congestion.py
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
from congestion_pipeline import FEATURES, LABEL, MODEL
from deploy_and_predict import logged
from telemetry import START, generate_telemetry

import kiln

DEPLOYMENT = "congestion"
PER_REQUEST = 20
ALERT_WAIT_SECONDS = float(os.environ.get("KILN_DEMO_ALERT_WAIT", "150"))
RETRAIN_WAIT_SECONDS = float(os.environ.get("KILN_DEMO_RETRAIN_WAIT", "300"))
PIPELINE = "congestion_training"


def deployed(client: kiln.Client) -> int:
    newest = max(version.number for version in client.models.all_versions(MODEL))
    client.deployments.deploy(DEPLOYMENT, MODEL, version=newest)
    client.deployments.wait_ready(DEPLOYMENT, timeout=60)
    print(f"deployment {DEPLOYMENT}: {MODEL} v{newest}, ready")
    return newest


def send(readings: pd.DataFrame) -> list[tuple[str, list[int]]]:
    """Requests of ``PER_REQUEST`` readings; each request's id with the congestion observed later."""
    sent = []
    for first in range(0, len(readings), PER_REQUEST):
        chunk = readings.iloc[first : first + PER_REQUEST]
        answer = kiln.predict(DEPLOYMENT, chunk[FEATURES])
        sent.append((answer.request_id, [int(value) for value in chunk[LABEL]]))
    return sent


def readings(rows: int, *, seed: int, drift: float, day: int) -> pd.DataFrame:
    return generate_telemetry(rows, seed=seed, drift=drift, start=START + timedelta(days=day), days=1)


def main() -> None:
    client = kiln.Client()
    deployed(client)
    channel = next((c for c in client.alerts.channels() if c.name == "network-oncall"), None)
    channel = channel or client.alerts.create_channel("network-oncall", "in_app")
    rule = next((r for r in client.alerts.rules() if r.name == "congestion: inputs drifted"), None)
    if rule is not None and rule.window_seconds != 3_600:  # made by an earlier demo on 1m windows
        rule = client.alerts.update_rule(rule.id, duration=3_600, window="1h")
    rule = rule or client.alerts.create(
        DEPLOYMENT,
        "drift_share",
        ">=",
        0.3,
        duration="1h",
        window="1h",
        channels=[channel.name],
        name="congestion: inputs drifted",
    )
    print(f"alert rule '{rule.name}': drift_share >= 0.3 for 1h, to channel {channel.name}")
    # Flag for retraining: when that rule fires, the training pipeline runs again (once per cooldown).
    retraining = client.monitoring.retraining
    if not list(retraining.list(deployment=DEPLOYMENT)):
        retraining.create(
            DEPLOYMENT,
            PIPELINE,
            parameters={"dataset": "telemetry@latest"},
            on=("alert",),
            alert_rules=[rule.name],
        )
    print(f"retraining trigger: when '{rule.name}' fires, {PIPELINE} runs again")

    normal = send(readings(300, seed=50, drift=0.0, day=10))
    drifted = send(readings(300, seed=60, drift=0.8, day=11))
    print(f"sent {len(normal)} requests of normal readings, then {len(drifted)} of a degraded upstream")
    logged(client, drifted[-1][0])
    result = client.predictions.feedback_batch(
        [{"request_id": request_id, "actual": actual} for request_id, actual in normal + drifted]
    )
    print(f"feedback: the observed congestion of {result.recorded} requests")

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    report = client.monitoring.compute_drift_report(DEPLOYMENT, hour, window="1h")
    if report is None:
        print("drift report: no answered traffic this hour")
    else:
        print(
            f"drift report {hour:%H:%M}-{report.end:%H:%M} UTC over {report.rows} rows: "
            f"{len(report.drifted_features)} of {len(report.features) - 1} features moved "
            f"({', '.join(report.drifted_features) or 'none'}); prediction drift: {report.prediction_drift}; "
            f"retraining {'recommended' if report.retrain_recommended else 'not needed'}"
        )
        print(f"  {report.summary.split('. ')[0]}")

    # The tick judges the rule each minute on this hour's stored report: keep readings coming until it fires.
    began, seed = time.monotonic(), 100
    deadline = began + ALERT_WAIT_SECONDS
    print(f"waiting for the alert (the tick judges the rule each minute; at most {ALERT_WAIT_SECONDS:.0f} s)")
    while True:
        firing = [i for i in client.alerts.list(deployment=DEPLOYMENT) if i.rule_id == rule.id]
        if firing or time.monotonic() > deadline:
            break
        send(readings(PER_REQUEST * 2, seed=seed, drift=0.8, day=12))
        seed += 1
        time.sleep(2)
    for incident in firing[:1]:
        print(
            f"ALERT {incident.state.value} after {time.monotonic() - began:.0f} s: {incident.rule_name}: "
            f"{incident.metric} = {incident.value:.2f} (>= {incident.threshold}) since "
            f"{incident.breaching_since:%H:%M} UTC; incident {incident.id[:8]}"
        )
    if firing:
        retrained(client)
    if not firing:
        state = client.alerts.rules(deployment=DEPLOYMENT)
        mine = next((r for r in state if r.id == rule.id), rule)
        print(
            f"the alert has not fired yet (rule state {mine.state.value}); it shows under /alerts/incidents"
        )


def retrained(client: kiln.Client) -> None:
    """Wait for the run the alert started (the worker picks the trigger's job up) and say what it made."""
    deadline = time.monotonic() + RETRAIN_WAIT_SECONDS
    run = None
    while run is None and time.monotonic() < deadline:
        run = next((r for r in client.pipelines.runs(PIPELINE) if r.triggered_by.startswith("alert:")), None)
        if run is None:
            time.sleep(1)
    if run is None:
        print(f"no retraining run yet; it shows under /pipelines/{PIPELINE} once the worker starts it")
        return
    print(f"retraining run {run.id[:8]} started by {run.triggered_by}; waiting for it to finish")
    try:
        finished = client.pipelines.wait(PIPELINE, run.id, timeout=max(deadline - time.monotonic(), 1.0))
    except TimeoutError:
        print(f"  still running; follow it with: kiln pipelines logs {PIPELINE} {run.id} --follow")
        return
    newest = max(version.number for version in client.models.all_versions(MODEL))
    print(
        f"  {finished.state.value}: {MODEL} is now at v{newest} "
        f"(to serve it: kiln deploy {MODEL} --version {newest} --name {DEPLOYMENT})"
    )


if __name__ == "__main__":
    main()
