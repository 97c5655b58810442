from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from kiln.app import KilnSettings, create_app, kiln_state
from tests.auth.apps import build_app

__all__ = ["build_app", "second_app"]


@pytest.fixture
def second_app(settings: KilnSettings, tmp_path: Path) -> Iterator[FastAPI]:
    """Another serving process on the same database and store (its own home and caches). Used
    without entering its lifespan, it runs no threads: the test polls for it by hand."""
    other = settings.model_copy(update={"home": tmp_path / "second-home"})
    application = create_app(other, migrate=False)
    yield application
    kiln_state(application).db.dispose()
