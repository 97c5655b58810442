#!/usr/bin/env bash
# The Kiln demo: a server on the embedded defaults (SQLite + local artifacts under $KILN_HOME, default
# ~/.kiln), an admin account and a demo project, then examples that train scikit-learn models with
# tracking, take the best to production and deploy it for predictions, authenticated by an API key.
# The server keeps running so the UI can be explored; Ctrl-C stops it. KILN_DEMO_EXIT=1 stops it
# after the examples instead.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
HOST=${KILN_HOST:-127.0.0.1}
PORT=${KILN_PORT:-8000}
export KILN_URL="http://${HOST}:${PORT}"

KILN_HOME=${KILN_HOME:-$HOME/.kiln}
export KILN_HOME
mkdir -p "$KILN_HOME"
LOG="$KILN_HOME/server.log"
# An admin account and a "demo" project (made on the database directly, before the server starts);
# the examples authenticate with a fresh API key for it. The server inherits KILN_URL and KILN_TOKEN,
# and so do the pipeline steps its worker runs: a step reads datasets and registers models through
# the SDK like any other program.
# The admin password is KILN_ADMIN_PASSWORD, or generated and printed once on the first run.
# The database is migrated first; log lines go to the server log (only `export ...` is evaluated).
KILN_LOG_JSON=true "$VENV/bin/kiln" db upgrade >>"$LOG" 2>&1
eval "$("$VENV/bin/kiln" admin bootstrap --email "${KILN_ADMIN_EMAIL:-admin@example.com}" --project demo --print-env | grep '^export ')"
export KILN_TOKEN
# A second person (an ml_engineer of the demo project) approves what the admin asks to put in
# production: four eyes. Its password is KILN_USER_PASSWORD, or generated and printed once.
eval "$("$VENV/bin/kiln" admin add-user "${KILN_REVIEWER_EMAIL:-reviewer@example.com}" --project demo \
  --key-name demo-reviewer --print-env KILN_REVIEWER_TOKEN | grep '^export ')"
export KILN_REVIEWER_TOKEN

# Step functions are imported from the repository's examples package (KILN_PIPELINE_MODULES).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# The server's structured JSON log goes to a file; the terminal keeps only what a newcomer needs.
echo "Starting Kiln at $KILN_URL (log: $LOG)"
KILN_LOG_JSON=true "$VENV/bin/kiln" server --host "$HOST" --port "$PORT" >>"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 100); do
  if "$VENV/bin/python" -c "import httpx,sys; sys.exit(httpx.get('$KILN_URL/healthz').status_code != 200)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "kiln server failed to start (is port $PORT taken?); the end of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  sleep 0.2
done

"$VENV/bin/python" examples/train_breast_cancer.py
"$VENV/bin/python" examples/register_and_approve.py
# The production version behind a URL (the deployment follows the stage), ~200 predictions, feedback.
"$VENV/bin/kiln" deploy breast_cancer_classifier --stage production
"$VENV/bin/python" examples/deploy_and_predict.py
"$VENV/bin/kiln" deployments logs breast_cancer_classifier --limit 5

# A network team's telemetry: ingestion with quarantine, a training pipeline on a cron schedule,
# the model deployed and watched for drift.
"$VENV/bin/python" examples/ingest_telemetry.py
"$VENV/bin/python" examples/run_congestion_pipeline.py
"$VENV/bin/python" examples/monitor_congestion.py

echo
echo "== Kiln is running at $KILN_URL"
echo "  Log in as ${KILN_ADMIN_EMAIL:-admin@example.com} (the password was printed above, once;"
echo "  set KILN_ADMIN_PASSWORD to choose it), then open:"
echo "    experiments:  $KILN_URL/experiments   (the breast-cancer runs: charts, compare, reproduce)"
echo "    models:       $KILN_URL/models        (breast_cancer_classifier: stage history, approval, lineage)"
echo "    approvals:    $KILN_URL/approvals"
echo "    predictions:  POST $KILN_URL/api/v1/deployments/breast_cancer_classifier/predict"
echo "                  (kiln predict breast_cancer_classifier --file PATIENTS.csv; kiln deployments logs ...)"
echo "    datasets:     $KILN_URL/datasets      (telemetry: versions, quality trend; its quarantine, with reasons)"
echo "    pipelines:    $KILN_URL/pipelines     (congestion_training: the run's steps, timings and logs)"
echo "    jobs:         $KILN_URL/jobs          (the queue, and the nightly schedule with its next fire)"
echo "    monitoring:   $KILN_URL/monitoring    (congestion: requests, latency, accuracy, drift per feature)"
echo "    alerts:       $KILN_URL/alerts/incidents   (and /alerts/rules; channels under Notification settings)"
echo "    audit trail:  $KILN_URL/audit"
echo "    API docs:     $KILN_URL/docs"
echo "    metrics:      $KILN_URL/metrics"
echo "  Server log (JSON lines): $LOG"
if [ "${KILN_DEMO_EXIT:-0}" = "1" ]; then exit 0; fi
echo "Press Ctrl-C to stop."
wait $SERVER
