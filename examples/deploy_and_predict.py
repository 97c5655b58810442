"""Kiln demo, part 3: the production version answers predictions, and the outcomes come back later.

Deploys ``breast_cancer_classifier`` as it stands in production (the deployment follows the stage: a
later promotion moves it), unless ``kiln deploy`` did already; sends ~200 predictions one patient at
a time, as a hospital's service would, from the breast-cancer rows the model never trained on (and
a few malformed ones, refused with a 422 that names the field); then reports the diagnoses that were
confirmed for some of them, as feedback naming each prediction's request id; and reads the hour's
live metrics (accuracy from that feedback) and the drift of what was served against the training data.

    KILN_URL=... KILN_TOKEN=<key> python examples/deploy_and_predict.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from train_breast_cancer import load_data

import kiln

MODEL = DEPLOYMENT = "breast_cancer_classifier"
LABELS = {0: "malignant", 1: "benign"}  # scikit-learn's breast-cancer target


def deployed(client: kiln.Client) -> None:
    try:
        client.deployments.get(DEPLOYMENT)
    except kiln.NotFound:
        client.deployments.deploy(DEPLOYMENT, MODEL, stage="production")
    shown = client.deployments.wait_ready(DEPLOYMENT, timeout=60)
    print(f"deployment {DEPLOYMENT}: {MODEL} v{shown.model.version} (follows {shown.follows}), ready")
    print(f"  predict at {client.deployments.predict_url(DEPLOYMENT)}")


def malformed(row: dict[str, float]) -> list[dict[str, object]]:
    """What callers get wrong: a feature left out, text where a number goes, a misspelt name."""
    missing = {key: value for key, value in row.items() if key != "mean radius"}
    text = {**row, "worst area": "large"}
    misspelt = {("mean radios" if key == "mean radius" else key): value for key, value in row.items()}
    return [missing, text, misspelt]


def logged(client: kiln.Client, request_id: str) -> None:
    """Predictions are logged in the background (batched every 200 ms): wait for the last one."""
    deadline = time.monotonic() + 10
    while True:
        try:
            client.predictions.get(request_id)
            return
        except kiln.NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> None:
    client = kiln.Client()
    deployed(client)
    _x_train, x_val, _y_train, y_val, _digest = load_data()
    rows = x_val.to_dict(orient="records")  # 143 patients the model never saw
    rows += rows[:50]  # and 50 of them again, a follow-up visit
    truth = [int(label) for label in [*y_val, *y_val[:50]]]

    answers = []
    for row in rows:
        answers.append(kiln.predict(DEPLOYMENT, [row]))
    print(f"sent {len(answers)} predictions, one patient each; the first three:")
    for answer, actual in zip(answers[:3], truth, strict=False):
        [label], [probabilities] = answer.predictions, answer.probabilities or [[]]
        print(
            f"  {LABELS[label]:<9} p={max(probabilities):.3f}  (actually {LABELS[actual]})  "
            f"v{answer.model_version}  request {answer.request_id}"
        )
    batch = kiln.predict(DEPLOYMENT, x_val.head(5))  # a DataFrame: one request, one answer per row
    print(f"and a batch of 5 rows in one request: {[LABELS[p] for p in batch.predictions]}")

    last = batch.request_id
    for bad in malformed(rows[0]):
        try:
            kiln.predict(DEPLOYMENT, [bad])
        except kiln.ValidationFailed as refused:
            print(f"  refused (422): {refused.message}")
            last = refused.details["request_id"]  # refused ones are logged too

    # Later, the diagnoses are confirmed for the first 120 patients: the outcomes go back in one call.
    logged(client, answers[-1].request_id)
    outcomes = [
        {"request_id": answer.request_id, "actual": actual}
        for answer, actual in zip(answers[:120], truth, strict=False)
    ]
    result = client.predictions.feedback_batch(outcomes)
    right = sum(answer.predictions[0] == actual for answer, actual in zip(answers[:120], truth, strict=False))
    print(f"feedback: {result.recorded} outcomes recorded ({result.replaced} replaced earlier ones);")
    print(f"  the model was right for {right} of those {len(outcomes)} patients")

    logged(client, last)
    counts: dict[str, int] = {}
    for prediction in client.predictions.iter(deployment=DEPLOYMENT, page_size=1000):
        counts[prediction.status.value] = counts.get(prediction.status.value, 0) + 1
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
    print(f"prediction log of {DEPLOYMENT}: {sum(counts.values())} requests so far ({summary})")
    watch(client)


def watch(client: kiln.Client) -> None:
    """Monitoring: this hour's live metrics (the server's tick computes closed windows each minute;
    the demo recomputes the open one now) and drift of the served inputs against the training sample."""
    client.monitoring.compute_windows(DEPLOYMENT, window="1h")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for metric in ("requests", "error_rate", "latency_p99", "accuracy", "f1"):
        [series] = client.monitoring.metrics(DEPLOYMENT, metric, from_=hour).series
        value = series.points[-1].value if series.points else None
        print(f"  this hour's {metric}: {'n/a' if value is None else round(value, 4)}")
    report = client.monitoring.drift(DEPLOYMENT)
    print(f"drift against the training data: {report.summary}")


if __name__ == "__main__":
    main()
