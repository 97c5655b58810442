# Kiln — everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
UV     := $(PY) -m uv
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432

.PHONY: demo test test-postgres lint bench install install-dev browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv

# Bytecode is compiled at install (as pip does; uv does not by default), the editable source too: a
# shell with PYTHONDONTWRITEBYTECODE set would otherwise recompile every module on every start.
install: $(PY)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e '.[sklearn,data]'
	$(PY) -m compileall -q src

install-dev: $(PY)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e '.[dev]'
	$(PY) -m compileall -q src

## The demo: server on embedded SQLite + local artifacts, an example trains and tracks a model.
demo: install
	bash scripts/demo.sh

## The whole test suite (SQLite; browser tests in headless Chromium).
test: install-dev browser
	$(PY) -m pytest -q -n 2 --dist loadfile

## The same suite against PostgreSQL (a fresh database, dropped afterwards).
test-postgres: install-dev
	bash scripts/test-postgres.sh

browser:
	@test -x /usr/bin/chromium || bash scripts/install-chromium.sh

lint: install-dev
	$(PY) -m ruff check src tests examples $(wildcard bench)
	$(PY) -m ruff format --check src tests examples $(wildcard bench)
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

## Benchmarks against MLflow and FastTrackML (tracking) and MLflow, BentoML and MLServer (serving), in their own virtualenvs (never the test environment).
bench:
	bash bench/run.sh

clean:
	rm -rf $(VENV) .bench-venv .bench-venv-fasttrackml .bench-venv-evidently .pytest_cache .mypy_cache .ruff_cache
