"""What a ``kiln serve`` start loads: the serving path only (start-up time and idle memory per replica).

Each probe is a fresh interpreter, since a module imported once stays in ``sys.modules``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Loaded only by the control plane, the worker or the rest of the CLI; never by a serving start.
NOT_SERVING = (
    "kiln.cli.main",  # every command group
    "kiln.client",  # the SDK
    "kiln.data",
    "kiln.monitoring",
    "kiln.tracking",
    "kiln.lineage",
    "kiln.ui",
    "kiln.jobs.worker",
    "kiln.jobs.queue",
    "kiln.pipelines.tasks",
    "kiln.pipelines.executors",
    "kiln.auth.setup",
    # Before a model is loaded: only a model's own stack brings these in (scikit-learn imports them).
    "sklearn",
    "skops",
    "pandas",
    "pyarrow",
    "scipy",
)


def loaded(probe: str, home: Path) -> list[str]:
    """The ``NOT_SERVING`` modules (or their submodules) that ``probe`` left in ``sys.modules``."""
    script = (
        f"{probe}\n"
        "import sys\n"
        f"names = {NOT_SERVING!r}\n"
        "print(sorted({n for n in names for m in sys.modules if m == n or m.startswith(n + '.')}))\n"
    )
    env = {**os.environ, "KILN_HOME": str(home)}
    env.pop("KILN_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return [line for line in result.stdout.splitlines() if line.startswith("[")]


def test_the_serving_app_loads_no_control_plane_worker_or_data_module(tmp_path: Path) -> None:
    probe = "from kiln.app import create_serving_app\ncreate_serving_app()"
    loaded(probe, tmp_path)  # a new database: migrating it loads every domain's tables
    assert loaded(probe, tmp_path) == ["[]"]  # a replica's start, on a migrated database


@pytest.mark.parametrize(
    ("command", "option"),
    [("serve", "--forwarded-allow-ips"), ("server", "--reload"), ("worker", "--concurrency")],
)
def test_the_process_commands_start_without_the_rest_of_the_cli(
    command: str, option: str, tmp_path: Path
) -> None:
    probe = (
        "import sys, contextlib, io\n"
        f"sys.argv = ['kiln', {command!r}, '--help']\n"
        "from kiln.cli.entry import main\n"
        "out = io.StringIO()\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):\n"
        "    main()\n"
        f"assert {option!r} in out.getvalue(), out.getvalue()"
    )
    assert loaded(probe, tmp_path) == ["[]"]


def test_every_other_command_line_still_reaches_the_whole_cli(tmp_path: Path) -> None:
    probe = (
        "import sys, contextlib, io\n"
        "sys.argv = ['kiln', 'deployments', '--help']\n"
        "from kiln.cli.entry import main\n"
        "out = io.StringIO()\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):\n"
        "    main()\n"
        "assert 'list' in out.getvalue(), out.getvalue()"
    )
    [found] = loaded(probe, tmp_path)
    assert "kiln.cli.main" in found


def test_a_serving_process_loads_a_model_without_pandas_or_skops_scan_and_refuses_untrusted_types(
    tmp_path: Path,
) -> None:
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import kiln
    from tests.registry.predictors import Doubler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame)  # fitted on a DataFrame, as users do: a frame is its input
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
    kiln.save_model(model, tmp_path / "good", X=X)
    untrusted = make_pipeline(Doubler(), LogisticRegression(max_iter=5000)).fit(X, y)
    kiln.save_model(untrusted, tmp_path / "bad", X=X)
    rows = X.iloc[:5]
    probe = (
        "from pathlib import Path\n"
        "from kiln.app import create_serving_app\n"
        "from kiln.registry.errors import UntrustedPayload\n"
        "from kiln.registry.loaded_model import load_model_folder\n"
        "create_serving_app()\n"
        f"loaded = load_model_folder(Path({str(tmp_path / 'good')!r}))\n"
        f"answer = loaded.predict({rows.to_dict('records')!r})\n"
        f"assert answer.predictions == {model.predict(rows).tolist()!r}, answer\n"
        "try:\n"
        f"    load_model_folder(Path({str(tmp_path / 'bad')!r}))\n"
        "    raise AssertionError('a type nobody trusted was built')\n"
        "except UntrustedPayload as refused:\n"
        "    assert refused.details['untrusted_types'] == ['tests.registry.predictors.Doubler'], refused\n"
        "import sys\n"
        # pandas: a DataFrame model answers through its matrix twin, proven by its recorded answer;
        # the others: modules only skops' scan of every scikit-learn module imports.
        "names = ('pandas', 'pyarrow', 'dask', 'sklearn.gaussian_process', 'sklearn.mixture',\n"
        "         'tests.registry')\n"
        "print(sorted({n for n in names for m in sys.modules if m == n or m.startswith(n + '.')}))\n"
    )
    env = {**os.environ, "KILN_HOME": str(tmp_path / "home")}
    env.pop("KILN_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "[]"
