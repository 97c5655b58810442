#!/usr/bin/env bash
# The Kiln demo: a server on the embedded defaults (SQLite + local artifacts under $KILN_HOME, default
# ~/.kiln), an admin account and a demo project, then an example that trains scikit-learn models
# with tracking, authenticated by an API key. The server keeps running
# so the UI can be explored; Ctrl-C stops it. KILN_DEMO_EXIT=1 stops it after the example instead.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
HOST=${KILN_HOST:-127.0.0.1}
PORT=${KILN_PORT:-8000}
export KILN_URL="http://${HOST}:${PORT}"

"$VENV/bin/kiln" server --host "$HOST" --port "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 100); do
  if "$VENV/bin/python" -c "import httpx,sys; sys.exit(httpx.get('$KILN_URL/healthz').status_code != 200)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER" 2>/dev/null; then echo "kiln server failed to start (is port $PORT taken?)" >&2; exit 1; fi
  sleep 0.2
done

# An admin account and a "demo" project; the example authenticates with a fresh API key for it.
# The admin password is KILN_ADMIN_PASSWORD, or generated and printed once on the first run.
eval "$("$VENV/bin/kiln" admin bootstrap --email "${KILN_ADMIN_EMAIL:-admin@example.com}" --project demo --print-env)"
export KILN_TOKEN

"$VENV/bin/python" examples/train_breast_cancer.py

echo
echo "Kiln is running at $KILN_URL  (log in as ${KILN_ADMIN_EMAIL:-admin@example.com})"
echo "  experiments:  $KILN_URL/experiments"
echo "  API docs:     $KILN_URL/docs"
echo "  metrics:      $KILN_URL/metrics"
if [ "${KILN_DEMO_EXIT:-0}" = "1" ]; then exit 0; fi
echo "Press Ctrl-C to stop."
wait $SERVER
