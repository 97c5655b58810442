#!/usr/bin/env bash
# Run the test suite against a fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_HOST=${PG_HOST:-127.0.0.1}
if ! pg_isready -q -h "$PG_HOST" -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -q -h "$PG_HOST" -p 5432 && break; sleep 1; done
fi
DB="kiln_ci_$$"
createdb -h "$PG_HOST" -U postgres "$DB"
trap 'dropdb -h "$PG_HOST" -U postgres --if-exists "$DB"' EXIT
export KILN_TEST_DATABASE_URL="postgresql+psycopg://postgres@${PG_HOST}:5432/${DB}"
# Browser tests exercise the UI, not the database; they run once, in `make test`.
# Two workers, each on a database of its own (tests/conftest.py: database_url).
.venv/bin/python -m pytest -q -m "not e2e" -n 2 --dist loadfile "$@"
