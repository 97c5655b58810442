"""The experiment page answers an out-of-range time filter with its message, never a 500 (review L1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kiln.core.db import Database
from tests.builders import make_experiment, make_run
from tests.ui.html_tree import get_page

pytestmark = pytest.mark.usefixtures("logged_in")


@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "-1e20"])
def test_a_time_filter_out_of_range_is_shown_as_a_400(client: TestClient, db: Database, value: str) -> None:
    with db.unit_of_work() as session:
        experiment = make_experiment(session)
        make_run(session, experiment)
        experiment_id = experiment.id

    page = get_page(client, f"/experiments/{experiment_id}?filter=start_time > {value}", status=400)

    assert "milliseconds since the epoch between 0 and" in page.find(role="alert").text()
