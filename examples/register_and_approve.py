"""Kiln demo, part 2: the best breast-cancer run becomes a registered model that reaches production.

The admin's key registers the best run's model folder (``runs:/<id>/model``), sets a metric gate and
promotes it to staging (the gates run: the files load and match their checksums, a smoke prediction
succeeds, val_accuracy >= 0.9); then asks for production with a risk assessment. A second person,
the reviewer (``KILN_REVIEWER_TOKEN``), approves it: four eyes. The previous production version, if
any, is archived; the model page shows the stage history, the approval and the lineage graph.

    export KILN_URL=... KILN_TOKEN=<admin key> KILN_REVIEWER_TOKEN=<reviewer key>
    python examples/register_and_approve.py
"""

from __future__ import annotations

import os

import kiln

EXPERIMENT = "breast-cancer"
MODEL = "breast_cancer_classifier"


def main() -> None:
    client = kiln.Client()
    best = client.search_runs(experiment=EXPERIMENT, order_by="metrics.val_accuracy DESC", limit=1)[0]
    accuracy = best.metrics.get("val_accuracy")
    version = client.models.register_from_run(
        MODEL,
        best.id,
        description=f"SGD logistic regression from run {best.name} (val_accuracy {accuracy:.3f})",
        tags={"task": "diagnosis", "dataset": "breast_cancer"},
    )
    print(f"registered {MODEL} v{version.number} from run {best.name}")

    client.model_lifecycle.set_gates(
        MODEL, {"metrics": [{"metric": "val_accuracy", "op": ">=", "value": 0.9}]}
    )
    staged = client.model_lifecycle.set_stage(MODEL, version.number, "staging", reason="demo: passed review")
    passed = ", ".join(result.gate for result in staged.gate_results if result.passed)
    print(f"v{version.number} is in {staged.stage}; gates passed: {passed}")

    approval = client.model_lifecycle.request_production(
        MODEL,
        version.number,
        risk_level="low",
        risk_assessment="Validation accuracy above the 0.9 gate; decision support only, a clinician reviews.",
    )
    reviewer = kiln.Client(token=os.environ["KILN_REVIEWER_TOKEN"])
    decided = reviewer.model_lifecycle.approve(approval.id, reason="Metrics and risk assessment reviewed.")
    print(f"approval {decided.id[:8]}: {decided.status} by the reviewer; v{version.number} is in production")


if __name__ == "__main__":
    main()
