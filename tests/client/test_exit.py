"""A training script that never ends its run loses nothing: atexit and excepthook end it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import kiln


def run_script(tmp_path: Path, url: str, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "KILN_URL": url}
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_normal_exit_flushes_metrics_and_finishes_the_run(
    tmp_path: Path, live_url: str, client: kiln.Client
) -> None:
    done = run_script(
        tmp_path,
        live_url,
        """
        import kiln
        run = kiln.start_run(experiment="atexit")
        run.log_param("epochs", 3)
        for step in range(5000):
            run.log_metric("loss", 1.0 / (step + 1))
        print(run.id)
        """,
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    stored = client.get_run(run_id)
    assert stored.status == "finished"
    assert stored.params == {"epochs": "3"}
    assert stored.source == str((tmp_path / "train.py").resolve())
    assert client.get_metric_history(run_id, "loss", max_points=5000).total_points == 5000


def test_crash_marks_the_run_failed_and_keeps_its_metrics(
    tmp_path: Path, live_url: str, client: kiln.Client
) -> None:
    done = run_script(
        tmp_path,
        live_url,
        """
        import kiln
        run = kiln.start_run(experiment="crash")
        for step in range(100):
            kiln.log_metric("loss", float(step))
        print(run.id, flush=True)
        raise RuntimeError("diverged")
        """,
    )
    assert done.returncode == 1
    assert "RuntimeError: diverged" in done.stderr  # the user's traceback is still printed
    stored = client.get_run(done.stdout.strip())
    assert stored.status == "failed"
    assert client.get_metric_history(stored.id, "loss").total_points == 100


def test_crash_of_a_nested_run_fails_parent_and_child(
    tmp_path: Path, live_url: str, client: kiln.Client
) -> None:
    done = run_script(
        tmp_path,
        live_url,
        """
        import kiln
        parent = kiln.start_run(experiment="crash")
        child = kiln.start_run(nested=True)
        print(parent.id, child.id, flush=True)
        raise ValueError("bad trial")
        """,
    )
    assert done.returncode == 1
    parent_id, child_id = done.stdout.split()
    assert client.get_run(parent_id).status == "failed"
    assert client.get_run(child_id).status == "failed"
