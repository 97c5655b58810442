"""``kiln db upgrade`` migrates whatever KILN_DATABASE_URL names."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from kiln.cli.main import app
from kiln.core.migrate import alembic_config


def test_upgrade_creates_the_schema_and_prints_the_head_revision(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {"KILN_DATABASE_URL": url, "KILN_HOME": str(tmp_path / "home")}
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert f"at revision {head}" in result.output
    engine = create_engine(url)
    try:
        assert {"experiments", "runs"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    again = runner.invoke(app, ["db", "upgrade"], env=env)  # idempotent
    assert again.exit_code == 0, again.output


def test_unreachable_database_is_a_clean_error(runner: CliRunner, tmp_path: Path) -> None:
    env = {
        "KILN_DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}",
        "KILN_HOME": str(tmp_path),
    }
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 1
    assert "database error" in result.output
    assert "Traceback" not in result.output
