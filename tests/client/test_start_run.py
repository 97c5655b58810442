"""``kiln.start_run`` end to end against a live server: what a training script logs is what is stored."""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import pytest

import kiln
from kiln.core.settings import Settings


class TestLogging:
    def test_params_metrics_tags_and_inputs_are_stored(self, client: kiln.Client) -> None:
        with kiln.start_run(
            experiment="churn",
            name="baseline",
            tags={"team": "risk"},
            inputs=[{"name": "customers", "version": "3", "digest": "abc"}],
        ) as run:
            run.log_param("lr", 0.1)
            run.log_params({"epochs": 3, "optimizer": "adam"})
            for loss in (0.9, 0.5, 0.2):
                run.log_metric("loss", loss)
            run.log_metrics({"accuracy": 0.8, "auc": float("nan")})
            run.set_tag("stage", "dev")
            run.set_tags({"owner": "ana"})

        stored = client.get_run(run.id)
        assert stored.status == "finished"
        assert stored.end_time is not None
        assert stored.name == "baseline"
        assert stored.params == {"lr": "0.1", "epochs": "3", "optimizer": "adam"}
        assert stored.metrics["loss"] == pytest.approx(0.2)
        assert stored.metrics["accuracy"] == pytest.approx(0.8)
        assert math.isnan(stored.metrics["auc"])
        assert stored.tags == {"team": "risk", "stage": "dev", "owner": "ana"}
        assert [(i.name, i.version, i.digest) for i in stored.inputs] == [("customers", "3", "abc")]
        assert stored.user == "admin@kiln.test"
        assert client.get_experiment(stored.experiment_id).name == "churn"

    def test_steps_count_up_per_key_when_not_given(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="steps") as run:
            for value in (3.0, 2.0, 1.0):
                run.log_metric("loss", value)
            run.log_metric("acc", 0.5)
            run.log_metric("acc", 0.6, step=10)
            run.log_metric("acc", 0.7)  # continues after the explicit step

        loss = client.get_metric_history(run.id, "loss")
        assert [(p.step, p.value) for p in loss.points] == [(0, 3.0), (1, 2.0), (2, 1.0)]
        acc = client.get_metric_history(run.id, "acc")
        assert [p.step for p in acc.points] == [0, 10, 11]

    def test_same_experiment_name_reuses_the_experiment(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="shared") as first:
            pass
        with kiln.start_run(experiment="shared") as second:
            pass
        assert first.experiment_id == second.experiment_id
        assert client.get_experiment_by_name("shared").run_count == 2

    def test_log_input_after_creation_is_kept_as_a_tag(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="inputs") as run:
            run.log_input("train.csv", version="7", uri="s3://data/train.csv")
        tag = client.get_run(run.id).tags["kiln.input.train.csv"]
        assert '"version": "7"' in tag
        assert '"uri": "s3://data/train.csv"' in tag


class TestBuffering:
    def test_ten_thousand_metrics_return_fast_and_all_arrive(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="buffer") as run:
            started = time.perf_counter()
            for step in range(10_000):
                run.log_metric("loss", 1.0 / (step + 1))
            elapsed = time.perf_counter() - started
        # Ten thousand HTTP requests would take many seconds; appending to a buffer takes a fraction.
        assert elapsed < 2.0
        history = client.get_metric_history(run.id, "loss", max_points=10_000)
        assert history.total_points == 10_000
        assert history.points[-1].step == 9_999

    def test_flush_makes_buffered_metrics_visible_while_running(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="buffer") as run:
            run.log_metric("loss", 0.5)
            run.flush()
            assert client.get_run(run.id).metrics == {"loss": 0.5}

    def test_delivery_error_surfaces_at_flush(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="buffer") as run:
            client.update_run(run.id, status="killed")  # someone stops the run from elsewhere
            run.log_metric("loss", 0.1)
            with pytest.raises(kiln.InvalidState, match="killed"):
                run.flush()
            run.flush()  # the error is reported once
            with pytest.raises(kiln.InvalidState):
                run.end()


class TestErrors:
    def test_param_conflict_raises_conflict(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="conflict") as run:
            run.log_param("lr", 0.1)
            run.log_param("lr", 0.1)  # the same value again is fine
            with pytest.raises(kiln.Conflict, match="lr"):
                run.log_param("lr", 0.2)
        assert client.get_run(run.id).params == {"lr": "0.1"}

    def test_exception_in_block_marks_run_failed_and_propagates(self, client: kiln.Client) -> None:
        started: list[kiln.ActiveRun] = []

        def train() -> None:
            with kiln.start_run(experiment="boom") as run:
                started.append(run)
                run.log_metric("loss", 1.0)
                raise ZeroDivisionError("diverged")

        with pytest.raises(ZeroDivisionError, match="diverged"):
            train()
        stored = client.get_run(started[0].id)
        assert stored.status == "failed"
        assert stored.metrics == {"loss": 1.0}
        assert kiln.active_run() is None

    def test_keyboard_interrupt_marks_run_killed(self, client: kiln.Client) -> None:
        with pytest.raises(KeyboardInterrupt), kiln.start_run(experiment="boom") as run:
            raise KeyboardInterrupt
        assert client.get_run(run.id).status == "killed"

    def test_logging_to_an_ended_run_is_refused(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="ended") as run:
            pass
        with pytest.raises(kiln.InvalidState):
            run.log_metric("late", 1.0)
        with pytest.raises(kiln.InvalidState):
            run.log_param("late", 1)

    def test_invalid_metric_key_is_refused_at_the_call(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="keys") as run:
            with pytest.raises(kiln.Invalid):
                run.log_metric("", 1.0)
            with pytest.raises(kiln.Invalid):
                run.log_metric("bad\nkey", 1.0)
            run.log_metric("good", 1.0)
        assert client.get_run(run.id).metrics == {"good": 1.0}

    def test_missing_run_is_not_found(self, client: kiln.Client) -> None:
        with pytest.raises(kiln.NotFound, match="nope"):
            client.get_run("nope")

    def test_second_top_level_run_is_refused_while_one_is_active(self, live_url: str) -> None:
        with kiln.start_run(experiment="one"), pytest.raises(kiln.InvalidState, match="nested=True"):
            kiln.start_run(experiment="two")

    def test_unreachable_server_is_reported_clearly(self) -> None:
        unreachable = kiln.Client("http://127.0.0.1:9")
        unreachable.transport.retries = 1
        with pytest.raises(kiln.ServerUnreachable, match=r"127\.0\.0\.1:9"):
            unreachable.list_experiments()


class TestNestedRuns:
    def test_nested_run_is_a_child_of_the_active_run(self, client: kiln.Client) -> None:
        with kiln.start_run(experiment="hpo") as parent:
            for trial in range(2):
                with kiln.start_run(name=f"trial-{trial}", nested=True) as child:
                    assert kiln.active_run() is child
                    kiln.log_metric("score", trial)
            assert kiln.active_run() is parent
        children = list(client.iter_runs(experiment="hpo", filter=f"parent_run_id = '{parent.id}'"))
        assert sorted(run.name for run in children) == ["trial-0", "trial-1"]
        assert all(run.parent_run_id == parent.id and run.status == "finished" for run in children)


class TestModuleFunctions:
    def test_module_helpers_log_to_the_active_run(self, client: kiln.Client) -> None:
        run = kiln.start_run(experiment="fluent")
        kiln.log_param("alpha", 0.5)
        kiln.log_params({"beta": 1})
        kiln.log_metric("loss", 0.3)
        kiln.log_metrics({"acc": 0.9})
        kiln.set_tag("k", "v")
        kiln.set_tags({"k2": "v2"})
        assert kiln.active_run() is run
        kiln.end_run()
        assert kiln.active_run() is None
        stored = client.get_run(run.id)
        assert stored.status == "finished"
        assert stored.params == {"alpha": "0.5", "beta": "1"}
        assert stored.metrics == {"loss": 0.3, "acc": 0.9}
        assert stored.tags == {"k": "v", "k2": "v2"}

    def test_logging_without_a_run_starts_one_in_the_default_experiment(self, client: kiln.Client) -> None:
        kiln.log_metric("loss", 1.0)
        run = kiln.active_run()
        assert run is not None
        kiln.end_run()
        assert client.get_experiment(run.experiment_id).name == "default"

    def test_set_tracking_uri_points_the_sdk_at_a_server(
        self, live_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KILN_URL", "http://127.0.0.1:9")
        kiln.set_tracking_uri(live_url)
        try:
            assert kiln.get_tracking_uri() == live_url
            with kiln.start_run(experiment="uri") as run:
                pass
            assert run.info.status == "finished"
        finally:
            kiln.set_tracking_uri(None)  # back to KILN_URL for the other tests

    def test_set_tracking_uri_reconnects_with_the_credentials_in_force(
        self, live_url: str, admin_token: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KILN_TOKEN", "kiln_not-a-real-key")
        kiln.set_tracking_uri(live_url)
        try:
            with pytest.raises(kiln.Unauthenticated):
                kiln.start_run(experiment="reconnect")
            monkeypatch.setenv("KILN_TOKEN", admin_token)

            kiln.set_tracking_uri(live_url)  # the same server: the default client is rebuilt anyway

            with kiln.start_run(experiment="reconnect") as run:
                pass
            assert run.info.status == "finished"
        finally:
            kiln.set_tracking_uri(None)


class TestArtifacts:
    def test_upload_then_download_round_trips_with_checksum(
        self, client: kiln.Client, tmp_path: Path
    ) -> None:
        source = tmp_path / "weights.bin"
        payload = bytes(range(256)) * 8192  # 2 MiB: more than one streamed chunk
        source.write_bytes(payload)
        folder = tmp_path / "plots"
        (folder / "sub").mkdir(parents=True)
        (folder / "loss.txt").write_text("loss")
        (folder / "sub" / "acc.txt").write_text("acc")
        with kiln.start_run(experiment="artifacts") as run:
            stored = run.log_artifact(source, artifact_path="model")
            run.log_artifacts(folder, artifact_path="plots")
        assert stored.path == "model/weights.bin"
        assert stored.sha256 == hashlib.sha256(payload).hexdigest()
        listed = {a.path: a.size for a in client.list_artifacts(run.id)}
        assert listed == {"model/weights.bin": len(payload), "plots/loss.txt": 4, "plots/sub/acc.txt": 3}

        out = client.download_artifact(run.id, "model/weights.bin", tmp_path / "out" / "w.bin")
        assert out.read_bytes() == payload
        tree = client.download_artifacts(run.id, "plots", tmp_path / "tree")
        assert sorted(p.relative_to(tmp_path / "tree").as_posix() for p in tree) == [
            "plots/loss.txt",
            "plots/sub/acc.txt",
        ]

    def test_corrupted_artifact_is_refused_and_leaves_no_file(
        self, client: kiln.Client, tmp_path: Path, settings: Settings
    ) -> None:
        source = tmp_path / "data.bin"
        source.write_bytes(b"a" * 1000)
        with kiln.start_run(experiment="artifacts") as run:
            run.log_artifact(source)
        # Flip the stored bytes behind the server's back (same size, different content).
        # Each upload is its own object under runs/<id>/objects/ (the only file of this run).
        run_folder = Path(str(settings.storage.artifact_root)) / "runs" / run.id
        stored = next(p for p in run_folder.rglob("*") if p.is_file())
        stored.write_bytes(b"b" * 1000)
        target = tmp_path / "download"
        target.mkdir()
        with pytest.raises((kiln.ChecksumMismatch, kiln.ServerUnreachable)):
            client.download_artifact(run.id, "data.bin", target)
        assert list(target.iterdir()) == []

    def test_artifact_on_finished_run_is_refused(self, client: kiln.Client, tmp_path: Path) -> None:
        source = tmp_path / "late.txt"
        source.write_text("late")
        with kiln.start_run(experiment="artifacts") as run:
            pass
        with pytest.raises(kiln.InvalidState):
            client.upload_artifact(run.id, source)
