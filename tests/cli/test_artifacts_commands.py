"""``kiln artifacts upload/download/list`` against a live server."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import kiln
from kiln.cli.main import app


def test_upload_file_and_folder_then_download_them(
    runner: CliRunner, client: kiln.Client, tmp_path: Path
) -> None:
    experiment = client.create_experiment("cli-artifacts")
    run = client.create_run(experiment.id)
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00\x01" * 300_000)
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "loss.csv").write_text("step,loss\n0,1.0\n")

    uploaded = runner.invoke(app, ["artifacts", "upload", run.id, str(model), "--artifact-path", "model"])
    assert uploaded.exit_code == 0, uploaded.output
    assert "Uploaded model/model.bin (600,000 bytes" in uploaded.output
    folder = runner.invoke(app, ["artifacts", "upload", run.id, str(plots), "-a", "plots"])
    assert folder.exit_code == 0, folder.output

    listed = runner.invoke(app, ["artifacts", "list", run.id])
    assert "model/model.bin" in listed.output
    assert "plots/loss.csv" in listed.output

    out = tmp_path / "out"
    one = runner.invoke(
        app, ["artifacts", "download", run.id, "model/model.bin", "--out", str(out / "m.bin")]
    )
    assert one.exit_code == 0, one.output
    assert (out / "m.bin").read_bytes() == model.read_bytes()
    assert "checksum verified" in one.output
    tree = runner.invoke(app, ["artifacts", "download", run.id, "plots", "--out", str(out)])
    assert tree.exit_code == 0, tree.output
    assert (out / "plots" / "loss.csv").read_text() == "step,loss\n0,1.0\n"


def test_missing_artifact_and_missing_file_are_clean_errors(
    runner: CliRunner, client: kiln.Client, tmp_path: Path
) -> None:
    run = client.create_run(client.create_experiment("cli-errors").id)
    missing = runner.invoke(app, ["artifacts", "download", run.id, "nope.txt", "--out", str(tmp_path)])
    assert missing.exit_code == 1
    assert "error:" in missing.output
    assert "nope.txt" in missing.output
    absent = runner.invoke(app, ["artifacts", "upload", run.id, str(tmp_path / "absent.bin")])
    assert absent.exit_code == 1
    assert "does not exist" in absent.output
