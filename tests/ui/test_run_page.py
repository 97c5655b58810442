"""The run page through HTTP: the run's record, its charts' data, artifacts, environment, errors."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from kiln.core.db import Database
from kiln.tracking import batches
from kiln.tracking.models import Run
from kiln.tracking.schemas import LogBatch, MetricIn
from tests.builders import TEST_ACTOR, make_experiment, make_run
from tests.ui.html_tree import Element, chart_data, get_page

pytestmark = pytest.mark.usefixtures("logged_in")


class TestRunPage:
    def test_shows_the_record_params_metrics_and_artifact_links(
        self, client: TestClient, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            experiment = make_experiment(session, name="churn")
            run = make_run(
                session,
                experiment,
                name="gbm-7",
                params={"learning_rate": "0.05"},
                metrics={"auc": 0.91},
                tags={"team": "growth"},
                source="train.py",
                environment={
                    "python": "3.12.1",
                    "platform": "Linux-x86_64",
                    "git": {"commit": "abc123def", "dirty": True},
                    "command": ["train.py", "--lr", "0.05"],
                    "packages": {"scikit-learn": "1.5.2"},
                },
                inputs=[{"name": "churn-2024", "version": "3", "digest": "sha256:feed"}],
            )
            run_id, experiment_id = run.id, experiment.id
        # The API takes writes only with a Bearer token (cookies authenticate reads).
        token = client.cookies["kiln_access"]
        upload = client.put(
            f"/api/v1/runs/{run_id}/artifacts/model/model.skops",
            content=b"weights",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert upload.status_code == 201
        page = get_page(client, f"/runs/{run_id}")
        assert "gbm-7" in page.find("h1").text()
        assert (
            page.find("nav", cls="breadcrumbs").find("a", href=f"/experiments/{experiment_id}").text()
            == "churn"
        )
        assert "learning_rate 0.05" in page.find("section", id="params").text()
        assert "auc 0.91" in page.find("table", id="metrics-table").text()
        assert "team growth" in page.find("section", id="tags").text()
        link = page.find("table", id="artifacts-table").find("a")
        assert link.text() == "model/model.skops"
        assert client.get(link.attrs["href"]).content == b"weights"
        environment = page.find("section", id="environment").text()
        assert "3.12.1" in environment
        assert "abc123def dirty" in environment
        assert "scikit-learn 1.5.2" in environment
        assert "churn-2024" in page.find("section", id="inputs").text()
        script = page.find("pre", id="reproduce-script").text()
        assert "git checkout abc123def" in script
        assert "scikit-learn==1.5.2" in script
        assert "python train.py --lr 0.05" in script

    def test_embeds_chart_data_for_each_metric(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            run = make_run(session, name="curves")
            metrics = [MetricIn(key="loss", value=1.0 / (step + 1), step=step) for step in range(20)]
            metrics.append(MetricIn(key="accuracy", value=0.9, step=0))
            batches.log_batch(session, TEST_ACTOR, run.id, LogBatch(metrics=metrics))
            run_id = run.id
        page = get_page(client, f"/runs/{run_id}")
        charts = {chart["key"]: chart for chart in chart_data(page)}
        assert set(charts) == {"loss"}  # accuracy, logged once, is shown as a number instead
        loss = charts["loss"]["series"][0]
        assert loss["x"] == list(range(20))
        assert loss["y"][0] == 1.0
        assert loss["y"][-1] == 0.05
        assert loss["lo"] is None  # a short history is drawn as is
        for chart in charts.values():
            assert page.find("div", cls="chart", id=chart["element"])
        assert plotly_script_src(page).startswith("/static/vendor/plotly.min.js?v=")

    def test_nan_and_infinity_become_gaps(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            run = make_run(session)
            values = [0.5, float("nan"), float("inf"), float("-inf"), 0.25]
            metrics = [MetricIn(key="loss", value=value, step=step) for step, value in enumerate(values)]
            batches.log_batch(session, TEST_ACTOR, run.id, LogBatch(metrics=metrics))
            run_id = run.id
        page = get_page(client, f"/runs/{run_id}")
        (chart,) = chart_data(page)
        assert chart["series"][0]["y"] == [0.5, None, None, None, 0.25]
        assert "3 NaN or infinite values not drawn" in page.text()
        assert "0.25" in page.find("table", id="metrics-table").text()

    def test_markup_in_names_and_keys_stays_text(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            run = make_run(
                session, name="<b>bold</b>", params={"<k>": "</script>"}, metrics={"a</script><b>": 1.0}
            )
            batches.log_batch(
                session,
                TEST_ACTOR,
                run.id,
                LogBatch(metrics=[MetricIn(key="a</script><b>", value=2.0, step=1)]),
            )
            run_id = run.id
        page = get_page(client, f"/runs/{run_id}")
        assert page.find("h1").find_all("b") == []
        assert "<b>bold</b>" in page.find("h1").text()
        (chart,) = chart_data(page)  # the embedded JSON survives a key that closes a script tag
        assert chart["key"] == "a</script><b>"
        assert chart["series"][0]["name"] == "<b>bold</b>"

    def test_a_long_history_is_downsampled_with_a_min_max_band(
        self, client: TestClient, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            run = make_run(session)
            metrics = [MetricIn(key="loss", value=float(step % 7), step=step) for step in range(3000)]
            batches.log_batch(session, TEST_ACTOR, run.id, LogBatch(metrics=metrics))
            run_id = run.id
        page = get_page(client, f"/runs/{run_id}")
        (chart,) = chart_data(page)
        series = chart["series"][0]
        assert series["downsampled"] is True
        assert len(series["y"]) <= 1000
        assert min(series["lo"]) == 0.0
        assert max(series["hi"]) == 6.0
        assert "downsampled from 3,000 points" in page.text()

    def test_unknown_run_is_a_friendly_404_page(self, client: TestClient) -> None:
        page = get_page(client, "/runs/does-not-exist", status=404)
        assert "Not found" in page.find("h1").text()
        assert "run 'does-not-exist' not found" in page.text()


def plotly_script_src(page: Element) -> str:
    sources = [script.attrs["src"] for script in page.find_all("script") if "src" in script.attrs]
    plotly = [src for src in sources if "plotly" in src]
    assert plotly, f"no plotly script among {sources}"
    return plotly[0]


class TestRunPageWithUntrustedData:
    def test_the_script_is_the_one_the_api_and_cli_write(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            run = make_run(
                session,
                name="pinned",
                environment={"command": ["train.py"], "packages": {"numpy": "2.1.0", "--index-url=x": "1"}},
            )
            run_id = run.id
        token = client.cookies["kiln_access"]

        shown = get_page(client, f"/runs/{run_id}").find("pre", id="reproduce-script").text()
        api = client.get(f"/api/v1/runs/{run_id}/reproduce", headers={"Authorization": f"Bearer {token}"})

        def comparable(script: str) -> str:
            # Written at a different moment, with its own heredoc delimiter.
            script = re.sub(r"KILN_REQUIREMENTS_[0-9a-f]{16}", "DELIMITER", script)
            script = re.sub(r"Written by Kiln on [0-9-]+ [0-9:]+ UTC", "Written by Kiln", script)
            return " ".join(script.split())  # the page's text comes with its whitespace collapsed

        assert comparable(shown) == comparable(api.json()["script"])
        assert "numpy==2.1.0" in shown
        assert "pip install --index-url" not in shown

    def test_a_malformed_environment_does_not_break_the_page(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            run = make_run(session, name="odd-env")
            session.execute(
                update(Run)
                .where(Run.id == run.id)
                .values(environment={"command": 5, "git": "notadict", "packages": [1, 2]})
            )
            run_id = run.id

        page = get_page(client, f"/runs/{run_id}")

        assert "odd-env" in page.find("h1").text()

    def test_the_artifact_location_is_relative_to_the_store(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            run_id = make_run(session).id
        token = client.cookies["kiln_access"]
        client.put(
            f"/api/v1/runs/{run_id}/artifacts/a.txt",
            content=b"a",
            headers={"Authorization": f"Bearer {token}"},
        )

        page = get_page(client, f"/runs/{run_id}")

        section = page.find("section", id="artifacts").text()
        assert f"Stored under runs/{run_id}/artifacts in the server's artifact store" in section
        assert "/tmp" not in page.text()
