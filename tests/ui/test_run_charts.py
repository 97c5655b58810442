"""A metric logged once shows as its number; a metric with a history gets a chart."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kiln.core.db import Database
from kiln.tracking import batches
from kiln.tracking.schemas import LogBatch, MetricIn
from tests.builders import TEST_ACTOR, make_run
from tests.ui.html_tree import chart_data, get_page

pytestmark = pytest.mark.usefixtures("logged_in")


def test_a_single_value_is_shown_as_a_number_and_a_history_as_a_chart(
    client: TestClient, db: Database
) -> None:
    with db.unit_of_work() as session:
        run = make_run(session, metrics={"test_auc": 0.9137})
        batches.log_batch(
            session,
            TEST_ACTOR,
            run.id,
            LogBatch(metrics=[MetricIn(key="loss", value=1.0 / (step + 1), step=step) for step in range(5)]),
        )
        run_id = run.id
    page = get_page(client, f"/runs/{run_id}")
    single = page.find("p", cls="chart-card__single")
    assert single.attrs["data-chart-key"] == "test_auc"
    assert "0.9137" in single.text()
    charted = {chart["key"]: chart for chart in chart_data(page)}
    assert len(charted["loss"]["series"][0]["y"]) == 5
    assert "test_auc" not in charted  # nothing for the browser to draw as an empty chart
    assert [element.attrs["data-chart-key"] for element in page.find_all("div", cls="chart")] == ["loss"]
