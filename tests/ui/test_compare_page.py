"""The compare page through HTTP: differing params, best metrics, overlaid curves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kiln.core.db import Database
from kiln.tracking import service
from kiln.tracking.schemas import RunStatus, RunUpdate
from tests.builders import TEST_ACTOR, make_experiment, make_run
from tests.ui.html_tree import chart_data, get_page

pytestmark = pytest.mark.usefixtures("logged_in")


class TestComparePage:
    def _two_runs(self, db: Database) -> tuple[str, str]:
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            a = make_run(
                session,
                experiment,
                name="small-C",
                params={"C": "0.1", "kernel": "rbf"},
                metrics={"accuracy": 0.91, "val_loss": 0.30},
            )
            b = make_run(
                session,
                experiment,
                name="big-C",
                params={"C": "10", "kernel": "rbf"},
                metrics={"accuracy": 0.95, "val_loss": 0.35},
            )
            service.update_run(session, TEST_ACTOR, a.id, RunUpdate(status=RunStatus.finished))
            return a.id, b.id

    def test_marks_differing_params_and_the_best_metric_values(
        self, client: TestClient, db: Database
    ) -> None:
        small, big = self._two_runs(db)
        page = get_page(client, f"/compare?ids={small},{big}")
        header = page.find("table", id="compare-runs").find("thead").text()
        assert "small-C" in header
        assert "big-C" in header
        assert "differs" in page.find("tr", data_param="C").classes
        assert "same" in page.find("tr", data_param="kernel").classes
        accuracy = page.find("tr", data_metric="accuracy")
        assert "best" in accuracy.find("td", data_run_id=big).classes
        assert "best" not in accuracy.find("td", data_run_id=small).classes
        # A loss improves downwards.
        loss = page.find("tr", data_metric="val_loss")
        assert "best" in loss.find("td", data_run_id=small).classes
        assert "lower is better" in loss.text()

    def test_overlays_one_curve_per_run(self, client: TestClient, db: Database) -> None:
        small, big = self._two_runs(db)
        page = get_page(client, f"/compare?ids={small}&ids={big}")
        charts = {chart["key"]: chart for chart in chart_data(page)}
        assert set(charts) == {"accuracy", "val_loss"}
        assert [series["name"] for series in charts["accuracy"]["series"]] == ["small-C", "big-C"]

    def test_without_ids_explains_how_to_choose_runs(self, client: TestClient) -> None:
        page = get_page(client, "/compare", status=400)
        assert "choose runs to compare" in page.text()

    def test_an_unknown_run_is_a_404_page(self, client: TestClient, db: Database) -> None:
        small, _ = self._two_runs(db)
        page = get_page(client, f"/compare?ids={small},nope", status=404)
        assert "runs not found: nope" in page.text()
