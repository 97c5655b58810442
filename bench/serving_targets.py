"""Each server of the serving benchmark started and described as targets: the endpoint, the bodies, how
to read the predicted classes out of its answer. Servers are entered on an ``ExitStack``, so every one
is stopped when the run ends, however it ends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import serving_model as sm
from bench import serving_servers
from bench.report import Report
from bench.serving_kiln import OIP_INFER_PATH, PREDICT_PATH, KilnServing, kiln_serving
from bench.serving_measure import Target

Answers = Callable[[Any], list[Any]]
Body = Callable[[sm.Trained, int], bytes]
MLSERVER_INFER = f"/v2/models/{sm.MODEL_NAME}/infer"


def output(name: str) -> Answers:
    """The data of one named output of an Open Inference Protocol answer."""
    return lambda doc: next(item["data"] for item in doc["outputs"] if item["name"] == name)


def predictions(doc: Any) -> list[Any]:
    return list(doc["predictions"])


def kiln_targets(
    stack: ExitStack, root: Path, trained: sm.Trained, report: Report, *, process: str = "server"
) -> tuple[KilnServing, list[Target]]:
    kiln = stack.enter_context(kiln_serving(root / "kiln", trained, process=process))
    targets = [
        Target(
            "kiln",
            "Kiln predict",
            kiln.server,
            PREDICT_PATH,
            sm.kiln_predict_body(trained, 1),
            sm.kiln_predict_body(trained, sm.BATCH_ROWS),
            kiln.headers,
            predictions,
            kiln.healthy_s,
            peer=False,
        )
    ]
    if kiln.oip_metadata is None:
        report.note(f"Kiln's OIP route answered 404 for {OIP_INFER_PATH}: not in this checkout, skipped")
    else:
        targets.append(
            Target(
                "kiln_oip",
                "Kiln OIP infer",
                kiln.server,
                OIP_INFER_PATH,
                sm.oip_body(trained, 1, kiln.oip_metadata),
                sm.oip_body(trained, sm.BATCH_ROWS, kiln.oip_metadata),
                kiln.headers,
                output("prediction"),
                None,
                peer=False,
            )
        )
    return kiln, targets


def peer_target(stack: ExitStack, name: str, root: Path, trained: sm.Trained, joblib_path: Path) -> Target:
    home = root / name
    served: serving_servers.Served
    answers: Answers | None = predictions
    if name == "ceiling":
        served, label, path, body, answers = (
            serving_servers.ceiling_serve(home),
            "bare uvicorn",
            "/",
            sm.kiln_predict_body,
            None,
        )
    elif name == "mlflow":
        model_dir = sm.save_mlflow(trained, root / "mlflow-model")
        served, label, path, body = (
            serving_servers.mlflow_serve(home, model_dir),
            "MLflow",
            "/invocations",
            sm.mlflow_body,
        )
    elif name == "bentoml":
        served, label, path, body = (
            serving_servers.bentoml_serve(home, joblib_path),
            "BentoML",
            "/predict",
            sm.bentoml_body,
        )
    else:
        workers = 0 if name == "mlserver_pw0" else None
        label = "MLServer parallel_workers=0" if workers == 0 else "MLServer"
        served = serving_servers.mlserver_serve(home, joblib_path, name=name, parallel_workers=workers)
        path, body, answers = MLSERVER_INFER, sm.mlserver_body, output("predict")
    server, healthy_s = stack.enter_context(served)
    return Target(
        name,
        label,
        server,
        path,
        body(trained, 1),
        body(trained, sm.BATCH_ROWS),
        {},
        answers,
        healthy_s,
        peer=name != "ceiling",
    )
