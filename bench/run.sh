#!/usr/bin/env bash
# Benchmarks: Kiln's tracking against MLflow's and FastTrackML's (bench/tracking.py), Kiln at scale
# (bench/scale.py), and Kiln's model serving against MLflow, BentoML and MLServer (bench/serving.py).
#
# They run in their own virtualenv, .bench-venv, never the test environment (.venv): Kiln from this
# checkout (editable) and MLflow pinned to 3.17.2, side by side — their pins do not clash (checked below).
# FastTrackML gets a venv of its own, .bench-venv-fasttrackml: its package pins an MLflow 2 that would
# clash with 3.17.2. Only its static Go binary (bin/fml) is used, so it is installed without dependencies.
# The serving part adds scikit-learn, skops and py-spy to .bench-venv, and two venvs of its own:
# .bench-venv-bentoml (BentoML 1.4.39) and .bench-venv-mlserver (MLServer 1.7.1 with mlserver-sklearn,
# uvloop<0.22), each with the very scikit-learn and numpy of .bench-venv, so all load the same model
# bytes; each is checked with `uv pip check`. It needs wrk (installed with apt-get when missing).
#
#   make bench                                  # everything, full sizes (about 25-40 minutes on 2 cores)
#   bash bench/run.sh tracking --mlflow-calls 500   # one part, extra arguments passed on
#   bash bench/run.sh tracking --mlflow-calls 300 --runs 200 --batch-values 20000   # a quick run
#   bash bench/run.sh scale
#   bash bench/run.sh serving                    # about 6-9 minutes; --seconds 5 for a quick run
#   bash bench/run.sh data                       # uploads, appends, quality checks vs pandera (bench/data.py)
#   bash bench/run.sh drift                      # drift vs Evidently's DataDriftPreset (bench/drift.py), ~3 min
#   bash bench/run.sh setup                      # only install every benchmark venv, run nothing
#
#   bash bench/run.sh pipelines                  # pipelines vs Prefect 3.8.8 and raw Dask (bench/pipelines.py), ~6 min
#   bash bench/run.sh pipelines --repeats 2 --first-runs 0   # a quick run
#
# The pipelines part adds kiln[dask] to .bench-venv (raw Dask and Kiln's dask executor share one
# LocalCluster) and gives Prefect 3.8.8 a venv of its own, .bench-venv-prefect, with prefect-dask and
# fastapi<0.155 (Prefect 3.8.8 crashes on newer FastAPI); bench/pipelines.py runs it as a subprocess
# that answers JSON.
#
# The drift part gives Evidently 0.7.23 a venv of its own, .bench-venv-evidently, with pandas<3 (which
# it needs); bench/drift.py runs it as a subprocess that answers JSON verdicts and timings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${BENCH_VENV:-.bench-venv}"
PY="$VENV/bin/python"
MLFLOW_VERSION="3.17.2"
FTML_VENV="${BENCH_FASTTRACKML_VENV:-.bench-venv-fasttrackml}"
FTML_VERSION="0.6.0"
# Every part is bounded: after this many seconds it is interrupted (and stops its servers).
LIMIT_TRACKING="${BENCH_LIMIT_TRACKING:-3600}"
LIMIT_SCALE="${BENCH_LIMIT_SCALE:-1800}"
LIMIT_SERVING="${BENCH_LIMIT_SERVING:-720}"
LIMIT_DATA="${BENCH_LIMIT_DATA:-1200}"
LIMIT_DRIFT="${BENCH_LIMIT_DRIFT:-1800}"
EVIDENTLY_VENV="${BENCH_EVIDENTLY_VENV:-.bench-venv-evidently}"
EVIDENTLY_VERSION="0.7.23"
LIMIT_PIPELINES="${BENCH_LIMIT_PIPELINES:-1800}"
PREFECT_VENV="${BENCH_PREFECT_VENV:-.bench-venv-prefect}"
PREFECT_VERSION="3.8.8"
BENTOML_VENV="${BENCH_BENTOML_VENV:-.bench-venv-bentoml}"
BENTOML_VERSION="1.4.39"
MLSERVER_VENV="${BENCH_MLSERVER_VENV:-.bench-venv-mlserver}"
MLSERVER_VERSION="1.7.1"
part="${1:-all}"
[[ $# -gt 0 ]] && shift

if [[ ! -x "$PY" ]]; then
  python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip uv
fi
"$PY" -m uv pip install -q --python "$PY" -e . "mlflow==$MLFLOW_VERSION" psutil
"$PY" -c 'import kiln, mlflow; assert mlflow.__version__ == "'"$MLFLOW_VERSION"'"; kiln.start_run'
"$PY" -m uv pip check --python "$PY" >/dev/null

setup_fasttrackml() {
  if [[ ! -x "$FTML_VENV/bin/python" ]]; then
    "$PY" -m uv venv -q --python python3 "$FTML_VENV"
  fi
  "$PY" -m uv pip install -q --python "$FTML_VENV/bin/python" --no-deps "fasttrackml==$FTML_VERSION"
  "$FTML_VENV/bin/fml" --version | grep -q "$FTML_VERSION" || { echo "fml is not FastTrackML $FTML_VERSION" >&2; exit 1; }
  export BENCH_FASTTRACKML="$ROOT/$FTML_VENV/bin/fml"
}

# A competitor's venv with the scikit-learn and numpy of .bench-venv (the model is trained there).
competitor_venv() {
  local venv="$1"
  shift
  [[ -x "$venv/bin/python" ]] || "$PY" -m uv venv -q --python python3 "$venv"
  "$PY" -m uv pip install -q --python "$venv/bin/python" "$@" "scikit-learn==$SKLEARN" "numpy==$NUMPY"
  "$PY" -m uv pip check --python "$venv/bin/python" >/dev/null
  "$PY" -m compileall -q -j 0 "$venv/lib" >/dev/null || true
}

setup_serving() {
  "$PY" -m uv pip install -q --python "$PY" -e '.[sklearn]' "mlflow==$MLFLOW_VERSION" psutil py-spy
  "$PY" -m uv pip check --python "$PY" >/dev/null
  SKLEARN="$("$PY" -c 'import sklearn; print(sklearn.__version__)')"
  NUMPY="$("$PY" -c 'import numpy; print(numpy.__version__)')"
  competitor_venv "$BENTOML_VENV" "bentoml==$BENTOML_VERSION"
  "$BENTOML_VENV/bin/python" -c 'import bentoml; assert bentoml.__version__ == "'"$BENTOML_VERSION"'"'
  competitor_venv "$MLSERVER_VENV" "mlserver==$MLSERVER_VERSION" "mlserver-sklearn==$MLSERVER_VERSION" 'uvloop<0.22'
  "$MLSERVER_VENV/bin/python" -c 'import mlserver; assert mlserver.__version__ == "'"$MLSERVER_VERSION"'"'
  export BENCH_BENTOML_VENV="$ROOT/$BENTOML_VENV" BENCH_MLSERVER_VENV="$ROOT/$MLSERVER_VENV"
  if ! command -v wrk >/dev/null; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
}

setup_evidently() {
  [[ -x "$EVIDENTLY_VENV/bin/python" ]] || "$PY" -m uv venv -q --python python3 "$EVIDENTLY_VENV"
  "$PY" -m uv pip install -q --python "$EVIDENTLY_VENV/bin/python" "evidently==$EVIDENTLY_VERSION" 'pandas<3'
  "$PY" -m uv pip check --python "$EVIDENTLY_VENV/bin/python" >/dev/null
  "$EVIDENTLY_VENV/bin/python" -c 'import evidently; assert evidently.__version__ == "'"$EVIDENTLY_VERSION"'"'
  export BENCH_EVIDENTLY_VENV="$ROOT/$EVIDENTLY_VENV"
}

setup_pipelines() {
  "$PY" -m uv pip install -q --python "$PY" -e '.[dask]' "mlflow==$MLFLOW_VERSION" psutil py-spy
  "$PY" -m uv pip check --python "$PY" >/dev/null
  [[ -x "$PREFECT_VENV/bin/python" ]] || "$PY" -m uv venv -q --python python3 "$PREFECT_VENV"
  "$PY" -m uv pip install -q --python "$PREFECT_VENV/bin/python" "prefect==$PREFECT_VERSION" prefect-dask 'fastapi<0.155'
  "$PY" -m uv pip check --python "$PREFECT_VENV/bin/python" >/dev/null
  "$PREFECT_VENV/bin/python" -c 'import prefect; assert prefect.__version__ == "'"$PREFECT_VERSION"'"'
  "$PY" -m compileall -q -j 0 "$PREFECT_VENV/lib" >/dev/null || true
  export BENCH_PREFECT_VENV="$ROOT/$PREFECT_VENV"
}

case "$part" in
  tracking) setup_fasttrackml ;;
  serving) setup_serving ;;
  drift) setup_evidently ;;
  pipelines) setup_pipelines ;;
  all | setup) setup_fasttrackml; setup_serving; setup_evidently; setup_pipelines ;;
esac
# Only the venvs (before a run on a quiet machine, so installing does not share its time).
[[ "$part" == setup ]] && exit 0

# Start-up is measured as a user would see it on an installed system: with bytecode on disk, for
# Kiln's sources and for every package of both servers. (Some shells set PYTHONDONTWRITEBYTECODE,
# which would make every start recompile; it is lifted here.) Up-to-date files are skipped.
unset PYTHONDONTWRITEBYTECODE
"$PY" -m compileall -q -j 0 src/kiln "$VENV/lib" >/dev/null || true

export PATH="$ROOT/$VENV/bin:$PATH"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true

status=0
case "$part" in
  tracking) timeout -k 60 --signal=INT "$LIMIT_TRACKING" "$PY" -m bench.tracking "$@" || status=$? ;;
  scale) timeout -k 60 --signal=INT "$LIMIT_SCALE" "$PY" -m bench.scale "$@" || status=$? ;;
  serving) timeout -k 30 --signal=INT "$LIMIT_SERVING" "$PY" -m bench.serving "$@" || status=$? ;;
  data) timeout -k 30 --signal=INT "$LIMIT_DATA" "$PY" -m bench.data "$@" || status=$? ;;
  drift) timeout -k 30 --signal=INT "$LIMIT_DRIFT" "$PY" -m bench.drift "$@" || status=$? ;;
  pipelines) timeout -k 30 --signal=INT "$LIMIT_PIPELINES" "$PY" -m bench.pipelines "$@" || status=$? ;;
  all)
    echo "== tracking: Kiln vs MLflow $MLFLOW_VERSION and FastTrackML $FTML_VERSION"
    timeout -k 60 --signal=INT "$LIMIT_TRACKING" "$PY" -m bench.tracking || status=$?
    echo "== scale: Kiln with 10,000 runs and 1,000,000 metric points"
    timeout -k 60 --signal=INT "$LIMIT_SCALE" "$PY" -m bench.scale || status=$((status ? status : $?))
    echo "== serving: Kiln vs MLflow $MLFLOW_VERSION, BentoML $BENTOML_VERSION, MLServer $MLSERVER_VERSION, bare uvicorn"
    timeout -k 30 --signal=INT "$LIMIT_SERVING" "$PY" -m bench.serving || status=$((status ? status : $?))
    echo "== data: uploads, appends and quality checks against pandera alone"
    timeout -k 30 --signal=INT "$LIMIT_DATA" "$PY" -m bench.data || status=$((status ? status : $?))
    echo "== drift: Kiln vs Evidently $EVIDENTLY_VERSION DataDriftPreset"
    timeout -k 30 --signal=INT "$LIMIT_DRIFT" "$PY" -m bench.drift || status=$((status ? status : $?))
    echo "== pipelines: Kiln vs Prefect $PREFECT_VERSION and raw Dask"
    timeout -k 30 --signal=INT "$LIMIT_PIPELINES" "$PY" -m bench.pipelines || status=$((status ? status : $?))
    ;;
  *) echo "usage: bench/run.sh [all|setup|tracking|scale|serving|data|drift|pipelines] [args...]" >&2; exit 2 ;;
esac
exit "$status"
