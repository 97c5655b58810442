"""Migrations: an empty database upgrades to head, and the result matches the models exactly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, inspect, text

from kiln.core.db import make_engine
from kiln.core.migrate import MIGRATIONS_DIR, alembic_config, database_at_head, scripts_head, upgrade_database
from kiln.models_registry import metadata

POSTGRES_URL = os.environ.get("KILN_TEST_DATABASE_URL", "")


def head_revision(engine: Engine) -> str:
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    head = script.get_current_head()
    assert head is not None
    return head


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def downgrade_to_base(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    yield engine
    engine.dispose()


@contextmanager
def postgres_schema_engine() -> Iterator[Engine]:
    """A throwaway schema on the test PostgreSQL database (first on the search path), dropped afterwards."""
    schema = f"kiln_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    if not POSTGRES_URL.startswith("postgresql"):
        pytest.skip("KILN_TEST_DATABASE_URL does not point at PostgreSQL")
    with postgres_schema_engine() as engine:
        yield engine


def assert_upgrade_matches_models(engine: Engine) -> None:
    assert inspect(engine).get_table_names() == []

    upgrade_database(engine)

    tables = set(inspect(engine).get_table_names())
    assert tables == {*metadata.tables, "alembic_version"}
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head_revision(engine)
    assert schema_differences(engine) == []


class TestUpgradeFromEmpty:
    def test_sqlite(self, sqlite_engine: Engine) -> None:
        assert_upgrade_matches_models(sqlite_engine)

    def test_postgresql(self, postgres_engine: Engine) -> None:
        assert_upgrade_matches_models(postgres_engine)

    def test_upgrading_twice_is_a_no_op(self, sqlite_engine: Engine) -> None:
        upgrade_database(sqlite_engine)

        upgrade_database(sqlite_engine)

        assert schema_differences(sqlite_engine) == []


class TestStartAtHead:
    def test_the_scripts_head_is_alembics(self, sqlite_engine: Engine) -> None:
        assert scripts_head() == head_revision(sqlite_engine)

    def test_only_a_database_at_head_is_said_to_be(self, sqlite_engine: Engine) -> None:
        assert not database_at_head(sqlite_engine)  # empty: no version table
        upgrade_database(sqlite_engine, scripts_head_parent())
        assert not database_at_head(sqlite_engine)
        upgrade_database(sqlite_engine)
        assert database_at_head(sqlite_engine)

    def test_a_serving_process_on_a_migrated_database_never_imports_alembic(self, tmp_path: Path) -> None:
        # Nor pandas or scipy (seconds of start-up and ~130 MB of a serving process's memory): only
        # the data and drift code needs them, and it imports them when it runs.
        watched = {"alembic", "zxcvbn", "pandas", "scipy"}
        first = modules_a_start_imports("create_serving_app", watched, home=tmp_path)
        again = modules_a_start_imports("create_serving_app", watched, home=tmp_path)
        assert first == []  # a new database: created from the models and stamped without Alembic
        assert again == []

    def test_the_full_server_never_imports_pandas_or_pandera(self, tmp_path: Path) -> None:
        # About a second of CPU on every start: the data routers' services bind them lazily, and
        # only running data code (an upload, a quality check) imports them.
        watched = {"pandas", "pandera", "pyarrow"}
        assert modules_a_start_imports("create_app", watched, home=tmp_path) == []


def modules_a_start_imports(factory: str, watched: set[str], *, home: Path) -> list[str]:
    """Which of ``watched`` a fresh process has imported once ``kiln.app.<factory>()`` returns."""
    probe = (
        f"import json, sys; from kiln.app import {factory}; {factory}(); "
        f"print(json.dumps(sorted(set({sorted(watched)!r}) & set(sys.modules))))"
    )
    env = {**os.environ, "KILN_HOME": str(home)}
    env.pop("KILN_DATABASE_URL", None)
    started = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    return list(json.loads(started.stdout.strip().replace("'", '"')))


def reflected_schema(engine: Engine) -> dict[str, dict[str, object]]:
    """Every table's columns, keys, indexes and constraints as the database reports them, in an
    order-free form (SQLite's batch migrations recreate tables, so column order may differ)."""
    found = inspect(engine)

    def named(items: list[dict[str, object]]) -> list[str]:
        return sorted(json.dumps(item, sort_keys=True, default=str) for item in items)

    schema: dict[str, dict[str, object]] = {}
    for table in found.get_table_names():
        columns = {
            column["name"]: (str(column["type"]), column["nullable"], str(column.get("default")))
            for column in found.get_columns(table)
        }
        schema[table] = {
            "columns": columns,
            "primary_key": sorted(found.get_pk_constraint(table)["constrained_columns"]),
            "foreign_keys": named([dict(key) for key in found.get_foreign_keys(table)]),
            "indexes": named([dict(index) for index in found.get_indexes(table)]),
            "unique": named([dict(unique) for unique in found.get_unique_constraints(table)]),
            "checks": named([dict(check) for check in found.get_check_constraints(table)]),
        }
    return schema


def assert_built_from_models_equals_migrated(fresh: Engine, migrated: Engine) -> None:
    upgrade_database(migrated)

    upgrade_database(fresh, models=lambda: metadata)

    with fresh.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head_revision(fresh)
    assert schema_differences(fresh) == []
    built, replayed = reflected_schema(fresh), reflected_schema(migrated)
    assert sorted(built) == sorted(replayed)
    assert {name: table for name, table in built.items() if table != replayed[name]} == {}


class TestEmptyDatabaseFromModels:
    """A brand-new database is created from the models and stamped at head, not migrated."""

    def test_sqlite_equals_the_migrated_schema(self, tmp_path: Path) -> None:
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        try:
            assert_built_from_models_equals_migrated(fresh, migrated)
        finally:
            fresh.dispose()
            migrated.dispose()

    def test_postgresql_equals_the_migrated_schema(self, postgres_engine: Engine) -> None:
        with postgres_schema_engine() as migrated:
            assert_built_from_models_equals_migrated(postgres_engine, migrated)

    def test_a_stamped_database_is_at_head_and_upgrades_as_a_no_op(self, sqlite_engine: Engine) -> None:
        upgrade_database(sqlite_engine, models=lambda: metadata)

        assert database_at_head(sqlite_engine)
        with sqlite_engine.connect() as connection:  # Alembic reads the stamp as its own
            assert MigrationContext.configure(connection).get_current_revision() == head_revision(
                sqlite_engine
            )
        upgrade_database(sqlite_engine)
        assert schema_differences(sqlite_engine) == []

    def test_a_database_with_tables_is_migrated_not_rebuilt(self, sqlite_engine: Engine) -> None:
        upgrade_database(sqlite_engine, scripts_head_parent())
        called: list[bool] = []

        def models() -> MetaData:
            called.append(True)
            return metadata

        upgrade_database(sqlite_engine, models=models)

        assert called == []
        assert database_at_head(sqlite_engine)
        assert schema_differences(sqlite_engine) == []


def scripts_head_parent() -> str:
    """The revision just before head (a database one migration behind)."""
    [source] = [
        path.read_text()
        for path in (MIGRATIONS_DIR / "versions").glob("*.py")
        if f'revision: str = "{scripts_head()}"' in path.read_text()
    ]
    [parent] = re.findall(r'^down_revision: str \| None = "([^"]+)"', source, re.MULTILINE)
    return parent


class TestDowngrade:
    def test_base_removes_every_table_and_head_restores_them(self, sqlite_engine: Engine) -> None:
        upgrade_database(sqlite_engine)

        downgrade_to_base(sqlite_engine)

        assert set(inspect(sqlite_engine).get_table_names()) <= {"alembic_version"}
        upgrade_database(sqlite_engine)
        assert schema_differences(sqlite_engine) == []


class TestDriftIsDetected:
    def test_a_model_column_missing_from_the_migrations_shows_up(self, sqlite_engine: Engine) -> None:
        # Guards the guard: compare_metadata must see a difference when there is one.
        upgrade_database(sqlite_engine)
        with sqlite_engine.begin() as connection:
            connection.execute(text("ALTER TABLE experiments DROP COLUMN created_by"))

        differences = schema_differences(sqlite_engine)

        assert any("created_by" in repr(item) for item in differences)


def tables_seen_by_the_registry_alone(*, extra_path: Path | None = None) -> set[str]:
    """The tables ``kiln.models_registry`` knows in a fresh interpreter (as ``alembic`` runs it),
    where nothing else (no app, no router) has imported a domain's models first."""
    extend = f"kiln.__path__.append({str(extra_path)!r}); " if extra_path else ""
    probe = (
        f"import json, kiln; {extend}"
        "from kiln.models_registry import metadata; print(json.dumps(list(metadata.tables)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


class TestModelsAreDiscovered:
    def test_the_registry_alone_knows_every_table_of_the_migrated_head(self, sqlite_engine: Engine) -> None:
        upgrade_database(sqlite_engine)

        migrated = set(inspect(sqlite_engine).get_table_names()) - {"alembic_version"}

        assert tables_seen_by_the_registry_alone() == migrated

    def test_a_new_domain_is_found_without_an_edit_to_the_registry(self, tmp_path: Path) -> None:
        # A domain folder dropped next to the others, as `kiln/registry/` will be.
        domain = tmp_path / "widgets"
        domain.mkdir()
        (domain / "__init__.py").write_text("")
        (domain / "models.py").write_text(
            textwrap.dedent(
                """
                from sqlalchemy.orm import Mapped, mapped_column

                from kiln.core.db import Base


                class Widget(Base):
                    __tablename__ = "widgets"
                    id: Mapped[str] = mapped_column(primary_key=True)
                """
            )
        )

        tables = tables_seen_by_the_registry_alone(extra_path=tmp_path)

        # Its table is now part of autogenerate's target, so a missing migration shows up as a diff.
        assert "widgets" in tables
        assert {"runs", "users", "audit_records"} <= tables
