"""Schema migrations with Alembic; the scripts ship inside the package (``kiln/migrations``).

Every start upgrades the database, but most starts find it at head already. That is told without
Alembic (about 10 MB and a tenth of a second of imports, kept for the life of a serving process):
the scripts' own ``revision`` and ``down_revision`` lines give the one head, and the database's
``alembic_version`` row is compared with it. Anything unusual (a script whose lines do not read
plainly, a merge, several heads, no version table) goes to Alembic, as every upgrade did before.

A brand-new, empty database given the models' metadata is not walked through every revision (half
a second of SQLite DDL on a first start): its tables are created from the metadata and it is
stamped at head, as Alembic's cookbook builds an up-to-date database from scratch. A test checks
that this schema equals the migrated one, so either path gives the same database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Engine, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_REVISION = re.compile(r"""^revision(?:\s*:[^=\n]*)?\s*=\s*["']([^"'\n]+)["']\s*$""", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"""^down_revision(?:\s*:[^=\n]*)?\s*=\s*(?:None|["']([^"'\n]+)["'])\s*$""", re.MULTILINE
)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(
    engine: Engine, revision: str = "head", *, models: Callable[[], MetaData] | None = None
) -> None:
    """Bring the schema to ``revision`` on the given engine's database.

    ``models`` gives every table's metadata (``kiln.models_registry.metadata``; passed in because
    core sits below the domains that define the tables, and called only for an empty database): with
    it, an empty database going to head is created from the models and stamped instead of migrated.
    """
    if revision == "head" and database_at_head(engine):
        return
    if revision == "head" and models is not None and _created_at_head(engine, models):
        return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _created_at_head(engine: Engine, models: Callable[[], MetaData]) -> bool:
    """Create an empty database's tables from the models and stamp it at head, in one transaction.

    The stamp is the row Alembic's ``stamp head`` writes, in the table it would create, so the
    first start does not import Alembic either; False when the database is not empty or the
    scripts' head is not plain (then Alembic migrates, as always).
    """
    head = scripts_head()
    if head is None:
        return False
    with engine.begin() as connection:
        if inspect(connection).get_table_names():
            return False
        models().create_all(connection)
        version = _alembic_version_table()
        version.create(connection)
        connection.execute(version.insert().values(version_num=head))
    return True


def _alembic_version_table() -> Table:
    # Alembic's own definition (DefaultImpl.version_table_impl): the name, column and key name
    # that `alembic stamp` creates.
    return Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )


def scripts_head() -> str | None:
    """The one head revision of the shipped scripts, read from their text; None when not plain."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def database_at_head(engine: Engine) -> bool:
    """True when the database's schema is the scripts' head (so an upgrade would do nothing)."""
    head = scripts_head()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:  # no version table yet: a new database
        return False
    return list(versions) == [head]
