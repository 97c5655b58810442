"""The monitoring pages: the overview of active deployments, a deployment's charts (with CSV per
chart and the live refresh's JSON), alert rules, incidents with acknowledgement, and the
notification settings with project channels (the webhook SSRF guard on the form).

Data is seeded through the services: predictions through the prediction logger, ground truth and
windows through the API, incidents by evaluating a rule at a chosen moment."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.windows import window_start
from kiln.notify import service as notifications
from tests.api import API
from tests.builders.alerts import add_windows
from tests.builders.auth import (
    Account,
    access_token,
    api,
    default_project_id,
    make_account,
    make_member,
    make_project,
    open_session,
)
from tests.builders.core import counted_statements, database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import classified, log_predictions, prediction
from tests.ui.html_tree import Element, chart_data, get_page, parse_html
from tests.ui.sessions import form_token, submit

pytestmark = pytest.mark.usefixtures("logged_in")

PAGE = "/monitoring/deployments/fraud"
# The hour the predictions fall in: closed, and inside the page's default range (2 days of hours).
HOUR = window_start(utcnow() - timedelta(hours=3), 3_600)
LABELS = ["1", "1", "0", "0", "1", "0", "0", "1"]
ACTUAL = ["1", "0", "0", "0", "1", "1", "0", "1"]  # two of eight predictions wrong: accuracy 0.75


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def fraud(app: FastAPI, logged_in: Account) -> str:
    """``fraud`` serving v1 (0.93 accuracy at training): in one closed hour, eight classified
    predictions (latency 1..8 ms) with ground truth and one failure; its hourly window computed."""
    [version] = build_model(app, metrics=[{"training_accuracy": 0.93}])
    project = default_project_id(app)
    records = [
        classified(
            project, label, 0.5, version=1, latency_ms=float(i + 1), created_at=HOUR + timedelta(minutes=i)
        )
        for i, label in enumerate(LABELS)
    ]
    records.append(prediction(project, status="error", latency_ms=500.0, created_at=HOUR))
    request_ids = log_predictions(database(app), records)[: len(LABELS)]
    with api(app, access_token(app, logged_in)) as rest:
        deploy(rest, "fraud", version.model, version=1)
        sent = rest.post(
            f"{API}/predictions/feedback",
            json=[
                {"request_id": rid, "actual": label} for rid, label in zip(request_ids, ACTUAL, strict=True)
            ],
        )
        assert sent.status_code == 200, sent.text
        computed = rest.post(
            f"{API}/monitoring/windows",
            json={
                "deployment": "fraud",
                "window": "1h",
                "from": iso(HOUR),
                "to": iso(HOUR + timedelta(hours=1)),
            },
        )
        assert computed.status_code == 200, computed.text
    return "fraud"


@pytest.fixture
def incident(app: FastAPI, logged_in: Account, fraud: str) -> str:
    """An incident of the rule ``accuracy < 0.8`` (at once), fired on the hour's 0.75."""
    with api(app, access_token(app, logged_in)) as rest:
        created = rest.post(
            f"{API}/alerts/rules",
            json={
                "name": "fraud accuracy",
                "deployment": fraud,
                "metric": "accuracy",
                "comparison": "<",
                "threshold": 0.8,
                "duration": 0,
                "window": "1h",
            },
        )
        assert created.status_code == 201, created.text
        with database(app).unit_of_work() as session:
            evaluate_alerts(session, HOUR + timedelta(hours=1, seconds=10))
        [found] = rest.get(f"{API}/alerts/incidents", params={"state": "firing"}).json()["items"]
    return str(found["id"])


def live(page: Element, key: str) -> str:
    return page.find(data_live_key=key).text()


def as_outsider(app: FastAPI, client: TestClient) -> None:
    outsider = make_account(app, role=Role.ml_engineer)
    client.cookies.set("kiln_access", open_session(app, outsider).access_token)


class TestOverview:
    def test_one_row_per_deployment_with_its_newest_window_and_open_alerts(
        self, client: TestClient, fraud: str, incident: str
    ) -> None:
        page = get_page(client, "/monitoring")
        assert "Monitoring" in {link.text() for link in page.find("nav", aria_label="Main").find_all("a")}
        row = page.find("tr", data_deployment="fraud")
        assert live(row, "fraud:requests") == "9"
        assert live(row, "fraud:error_rate") == "11.11%"
        assert live(row, "fraud:latency_p99") == "8.0 ms"
        assert live(row, "fraud:accuracy") == "0.750"
        assert live(row, "fraud:alerts") == "1"
        # The built-in drift rule exists now, but the scheduler has not judged drift yet.
        assert live(row, "fraud:drift") == "not checked yet"

        refreshed = client.get("/monitoring/overview.json")
        assert refreshed.status_code == 200
        assert refreshed.json()["values"]["fraud:requests"] == "9"

    def test_a_deployment_without_ground_truth_says_so(self, app: FastAPI, client: TestClient) -> None:
        [version] = build_model(app)
        add_windows(database(app), default_project_id(app), "quiet", "requests", {HOUR: 3.0}, seconds=3_600)
        with api(app, access_token(app, make_account(app, role=Role.admin))) as rest:
            deploy(rest, "quiet", version.model, version=1)
        row = get_page(client, "/monitoring").find("tr", data_deployment="quiet")
        assert live(row, "quiet:requests") == "3"
        assert live(row, "quiet:accuracy") == "no ground truth yet"


class TestDeploymentPage:
    def test_charts_training_vs_live_and_open_incidents(
        self, client: TestClient, fraud: str, incident: str
    ) -> None:
        page = get_page(client, PAGE)
        assert live(page, "latest:requests") == "9"
        assert live(page, "latest:accuracy") == "0.750"
        assert live(page, "open-incidents") == "1"
        charts = {chart["element"]: chart for chart in chart_data(page)}
        assert set(charts) == {"chart-volume", "chart-latency", "chart-errors", "chart-quality"}
        volume = {series["name"]: series for series in charts["chart-volume"]["series"]}
        assert volume["requests"]["y"] == [9.0]
        assert volume["requests"]["x"] == [HOUR.strftime("%Y-%m-%d %H:%M:%S")]
        quality = {series["name"]: series["y"] for series in charts["chart-quality"]["series"]}
        assert quality["accuracy"] == [0.75]
        assert quality["accuracy at training"] == [0.93]
        compared = page.find("li", data_comparison="accuracy").text()
        assert "0.93 at training, 0.75 this week" in compared
        assert "8 rows with ground truth" in compared
        assert page.find_all("tr", data_incident=incident)
        # Drift compares the served inputs with the model's reference sample, feature by feature.
        drift = page.find("table", id="drift-table")
        assert {row.attrs["data-feature"] for row in drift.find_all("tr") if "data-feature" in row.attrs} == {
            "amount",
            "age",
            "prediction",  # the model's own answers drift too
        }
        exported = client.get(f"{PAGE}/drift.csv")
        assert exported.status_code == 200
        table = {row["feature"]: row for row in csv.DictReader(io.StringIO(exported.text))}
        assert set(table) == {"amount", "age", "prediction"}
        assert (table["amount"]["kind"], table["amount"]["drifted"]) == ("numeric", "false")
        rows_cell = drift.find("tr", data_feature="amount").find_all("td")[6].text()
        assert (
            rows_cell == f"{int(table['amount']['reference_count']):,} / {table['amount']['current_count']}"
        )

    def test_each_chart_downloads_as_csv_with_the_charted_numbers(
        self, client: TestClient, fraud: str
    ) -> None:
        charts = {chart["element"]: chart for chart in chart_data(get_page(client, PAGE))}
        for slug in ("volume", "latency", "errors", "quality"):
            answer = client.get(f"{PAGE}/charts/{slug}.csv")
            assert answer.status_code == 200, slug
            assert answer.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(answer.text)))
            assert [row["window_start"] for row in rows] == [HOUR.isoformat()]
            for series in charts[f"chart-{slug}"]["series"]:
                exported = [float(row[series["name"]]) if row[series["name"]] else None for row in rows]
                assert exported == pytest.approx(series["y"], rel=1e-6), (slug, series["name"])
        assert client.get(f"{PAGE}/charts/vibes.csv").status_code == 400

    def test_the_live_json_carries_a_newer_window(self, app: FastAPI, client: TestClient, fraud: str) -> None:
        first = client.get(f"{PAGE}/live.json").json()
        assert first["values"]["latest:requests"] == "9"
        next_hour = HOUR + timedelta(hours=1)
        add_windows(
            database(app), default_project_id(app), "fraud", "requests", {next_hour: 42.0}, seconds=3_600
        )
        answer = client.get(f"{PAGE}/live.json")
        assert answer.headers["cache-control"] == "no-store"
        body: dict[str, Any] = answer.json()
        assert body["values"]["latest:requests"] == "42"
        [volume] = [chart for chart in body["charts"] if chart["element"] == "chart-volume"]
        assert volume["series"][0]["y"] == [9.0, 42.0]

    def test_a_non_member_gets_404_everywhere(
        self, app: FastAPI, client: TestClient, fraud: str, incident: str
    ) -> None:
        as_outsider(app, client)
        assert get_page(client, "/monitoring").find_all("tr", data_deployment="fraud") == []
        for path in (
            PAGE,
            f"{PAGE}/live.json",
            f"{PAGE}/charts/volume.csv",
            f"{PAGE}/drift.csv",
            f"/alerts/incidents/{incident}",
        ):
            assert client.get(path).status_code == 404, path
        assert get_page(client, "/alerts/incidents").find_all("tr", data_incident=incident) == []
        token = form_token(client, "/settings/notifications")
        refused = client.post(f"/alerts/incidents/{incident}/ack", data={"csrf_token": token, "note": "mine"})
        assert refused.status_code == 404


COMPARED = {
    "requests": "chart-compare-requests",
    "latency-p99": "chart-compare-latency-p99",
    "error-rate": "chart-compare-error-rate",
    "accuracy": "chart-compare-accuracy",
}


def csv_columns(text: str) -> tuple[list[str], dict[str, list[float | None]]]:
    reader = csv.DictReader(io.StringIO(text))
    names = list(reader.fieldnames or [])[2:]
    rows = list(reader)
    columns = {name: [float(row[name]) if row[name] else None for row in rows] for name in names}
    return [row["window_start"] for row in rows], columns


@pytest.fixture
def quiet(app: FastAPI, logged_in: Account) -> str:
    """``quiet`` in the same project: requests and p99 in two hours (the earlier one before fraud's)."""
    [version] = build_model(app)
    db, project = database(app), default_project_id(app)
    earlier = HOUR - timedelta(hours=1)
    add_windows(db, project, "quiet", "requests", {earlier: 3.0, HOUR: 5.0}, seconds=3_600)
    add_windows(db, project, "quiet", "latency_p99", {earlier: 20.0, HOUR: 30.0}, seconds=3_600)
    with api(app, access_token(app, logged_in)) as rest:
        deploy(rest, "quiet", version.model, version=1)
    return "quiet"


@pytest.fixture
def theirs(app: FastAPI) -> Account:
    """An outsider's project with its own deployment ``theirs`` and its windows in fraud's hour."""
    outsider = make_account(app, role=Role.ml_engineer)
    with database(app).unit_of_work() as session:
        project = make_project(session, members={outsider.id: Role.ml_engineer.value}).id
    [version] = build_model(app, project_id=project)
    for metric, value in (("requests", 77.0), ("latency_p99", 99.0), ("error_rate", 0.5), ("accuracy", 0.1)):
        add_windows(database(app), project, "theirs", metric, {HOUR: value}, seconds=3_600)
    with api(app, access_token(app, outsider)) as rest:
        deploy(rest, "theirs", version.model, version=1)
    return outsider


class TestComparisonCharts:
    def test_one_series_per_deployment_and_each_csv_holds_the_charted_numbers(
        self, app: FastAPI, client: TestClient, fraud: str, quiet: str, theirs: Account
    ) -> None:
        # A member of the default project (the administrator would see every project's).
        member = make_member(app, Role.ml_engineer)
        client.cookies.set("kiln_access", open_session(app, member).access_token)
        page = get_page(client, "/monitoring")
        charts = {chart["element"]: chart for chart in chart_data(page)}
        assert set(charts) == set(COMPARED.values())
        requests = {series["name"]: series["y"] for series in charts["chart-compare-requests"]["series"]}
        assert requests == {"fraud": [None, 9.0], "quiet": [3.0, 5.0]}  # theirs never shows
        p99 = {series["name"]: series["y"] for series in charts["chart-compare-latency-p99"]["series"]}
        assert p99 == {"fraud": [None, 8.0], "quiet": [20.0, 30.0]}
        # quiet has no error rate nor ground truth: only fraud is drawn there.
        accuracy = charts["chart-compare-accuracy"]["series"]
        assert [(series["name"], series["y"]) for series in accuracy] == [("fraud", [0.75])]

        for slug, element in COMPARED.items():
            assert (
                page.find("a", id=f"csv-compare-{slug}").attrs["href"]
                == f"/monitoring/charts/{slug}.csv?window=1h"
            )
            answer = client.get(f"/monitoring/charts/{slug}.csv")
            assert answer.status_code == 200, slug
            assert answer.headers["content-type"].startswith("text/csv")
            starts, columns = csv_columns(answer.text)
            drawn = charts[element]["series"]
            assert list(columns) == [series["name"] for series in drawn], slug
            assert [start[:19].replace("T", " ") for start in starts] == drawn[0]["x"], slug
            for series in drawn:
                drawn_y = [None if y is None else pytest.approx(y, rel=1e-6) for y in series["y"]]
                assert columns[series["name"]] == drawn_y, (slug, series["name"])
        assert client.get("/monitoring/charts/vibes.csv").status_code == 400
        # Every deployment's windows come in one query, however many deployments are compared.
        with counted_statements(app) as sent:
            assert client.get("/monitoring/charts/requests.csv").status_code == 200
        assert sum("metric_windows" in statement for statement in sent) == 1

        refreshed = client.get("/monitoring/overview.json").json()["charts"]
        assert {chart["element"]: chart for chart in refreshed} == charts

    def test_a_non_member_sees_only_their_own_deployments(
        self, app: FastAPI, client: TestClient, fraud: str, quiet: str, theirs: Account
    ) -> None:
        client.cookies.set("kiln_access", open_session(app, theirs).access_token)
        page = get_page(client, "/monitoring")
        assert page.find_all("tr", data_deployment="fraud") == []
        for chart in chart_data(page):
            assert [series["name"] for series in chart["series"]] == ["theirs"], chart["element"]
        for slug in COMPARED:
            _, columns = csv_columns(client.get(f"/monitoring/charts/{slug}.csv").text)
            assert list(columns) == ["theirs"], slug
        refreshed = client.get("/monitoring/overview.json").json()
        assert {series["name"] for chart in refreshed["charts"] for series in chart["series"]} == {"theirs"}

    def test_no_window_in_range_draws_no_chart_and_the_csv_is_its_header(
        self, client: TestClient, fraud: str
    ) -> None:
        page = get_page(client, "/monitoring?window=1m")  # fraud has hourly windows only
        assert page.find(id="no-comparison")
        assert page.find_all("script", id="kiln-charts") == []
        answer = client.get("/monitoring/charts/requests.csv?window=1m")
        assert answer.text == "window_start,window_end\n"


class TestVersionTable:
    def test_each_served_version_its_training_metric_beside_this_weeks(
        self, app: FastAPI, client: TestClient, logged_in: Account
    ) -> None:
        built = build_model(app, versions=2, metrics=[{"training_accuracy": 0.93}, {"val_accuracy": 0.95}])
        db, project = database(app), default_project_id(app)
        with api(app, access_token(app, logged_in)) as rest:
            deploy(rest, "twover", built[0].model, version=2)
        earlier = HOUR - timedelta(hours=5)
        long_ago = window_start(utcnow() - timedelta(days=10), 3_600)
        add_windows(
            db, project, "twover", "accuracy", {earlier: 0.8, HOUR: 0.7}, seconds=3_600, version=1, samples=10
        )
        add_windows(
            db, project, "twover", "accuracy", {long_ago: 0.1}, seconds=3_600, version=1, samples=1000
        )
        add_windows(db, project, "twover", "requests", {earlier: 30.0, HOUR: 20.0}, seconds=3_600, version=1)
        add_windows(db, project, "twover", "accuracy", {HOUR: 0.9}, seconds=3_600, version=2, samples=40)
        add_windows(db, project, "twover", "requests", {HOUR: 70.0}, seconds=3_600, version=2)

        table = get_page(client, "/monitoring/deployments/twover").find("table", id="versions-table")
        rows = [row for row in table.find_all("tr") if "data-version" in row.attrs]
        assert [(row.attrs["data-version"], row.attrs["data-metric"]) for row in rows] == [
            ("2", "accuracy"),
            ("1", "accuracy"),
        ]
        newest, oldest = rows
        assert "serving" in newest.find_all("td")[0].text()
        assert newest.find(data_cell="training").text() == "0.950"
        assert newest.find(data_cell="training").attrs["title"] == "recorded as val_accuracy"
        assert newest.find(data_cell="live").text() == "0.900"
        assert newest.find(data_cell="requests").text() == "70"
        assert "serving" not in oldest.find_all("td")[0].text()
        assert oldest.find(data_cell="training").text() == "0.930"
        # Weighted by rows with ground truth over the week only (the 10-day-old window is left out).
        assert oldest.find(data_cell="live").text() == "0.750"
        assert oldest.find(data_cell="requests").text() == "50"

    def test_the_served_version_measured_from_the_log(self, client: TestClient, fraud: str) -> None:
        table = get_page(client, PAGE).find("table", id="versions-table")
        rows = {
            (row.attrs["data-version"], row.attrs["data-metric"]): row
            for row in table.find_all("tr")
            if "data-version" in row.attrs
        }
        # Every quality metric ground truth measured; training recorded accuracy only.
        assert {"accuracy", "precision", "recall", "f1"} <= {metric for _, metric in rows}
        # The fixture's one failure was logged as v3, which the registry does not hold: shown as served.
        assert {version for version, _ in rows} == {"1", "3"}
        failed = rows[("3", "accuracy")]
        assert failed.find(data_cell="training").text() == "not recorded"
        assert failed.find(data_cell="live").text() == "no ground truth this week"
        assert failed.find(data_cell="requests").text() == "1"
        accuracy = rows[("1", "accuracy")]
        assert accuracy.find(data_cell="training").text() == "0.930"
        assert accuracy.find(data_cell="live").text() == "0.750"
        assert accuracy.find(data_cell="requests").text() == "8"
        assert rows[("1", "precision")].find(data_cell="training").text() == "not recorded"


class TestAlertPages:
    def test_create_a_rule_then_disable_it(self, client: TestClient, fraud: str) -> None:
        created = submit(
            client,
            "/alerts/rules",
            "/alerts/rules",
            {
                "deployment": "fraud",
                "metric": "latency_p99",
                "comparison": ">",
                "threshold": "250",
                "duration": "10m",
            },
        )
        assert created.status_code == 303, created.text
        page = get_page(client, created.headers["location"])
        row = page.find("tr", data_rule="fraud latency_p99")
        assert "latency_p99 > 250 for 10m" in row.text()
        assert row.find_all(data_enabled="yes")

        disabled = submit(
            client, "/alerts/rules", f"/alerts/rules/{row.attrs['data-rule-id']}/enabled", {"enabled": "0"}
        )
        assert disabled.status_code == 303
        row = get_page(client, "/alerts/rules").find("tr", data_rule="fraud latency_p99")
        assert row.find_all(data_enabled="no")

    def test_a_refused_rule_is_shown_again_with_what_to_fix(self, client: TestClient, fraud: str) -> None:
        refused = submit(
            client,
            "/alerts/rules",
            "/alerts/rules",
            {
                "deployment": "fraud",
                "metric": "accuracy",
                "comparison": "<",
                "threshold": "0.8",
                "duration": "90s",
                "window": "1h",
            },
        )
        assert refused.status_code == 400
        page = parse_html(refused.text)
        assert "not a whole number of 1h windows" in page.find(id="form-error").text()
        assert page.find("input", id="duration").attrs["value"] == "90s"

    def test_incidents_filter_by_state_and_an_incident_is_acknowledged(
        self, client: TestClient, incident: str, logged_in: Account
    ) -> None:
        assert get_page(client, "/alerts/incidents?state=firing").find_all("tr", data_incident=incident)
        assert (
            get_page(client, "/alerts/incidents?state=resolved").find_all("tr", data_incident=incident) == []
        )

        page = get_page(client, f"/alerts/incidents/{incident}")
        kinds = [entry.attrs["data-entry"] for entry in page.find("ol", cls="timeline").find_all("li")]
        assert kinds[:2] == ["breach", "fired"]
        assert "value 0.75" in page.find("li", data_entry="fired").text()

        acked = submit(
            client,
            f"/alerts/incidents/{incident}",
            f"/alerts/incidents/{incident}/ack",
            {"note": "retraining on fresh data"},
        )
        assert acked.status_code == 303, acked.text
        page = get_page(client, acked.headers["location"])
        entry = page.find("li", data_entry="acknowledged").text()
        assert f"Acknowledged by {logged_in.email}" in entry
        assert "retraining on fresh data" in entry
        assert page.find_all("form", id="ack-form") == []
        listed = get_page(client, "/alerts/incidents").find("tr", data_incident=incident)
        assert logged_in.email in listed.text()

    def test_a_viewer_reads_rules_and_incidents_without_forms(
        self, app: FastAPI, client: TestClient, incident: str
    ) -> None:
        viewer = make_account(app, role=Role.viewer, project_role=Role.viewer)
        client.cookies.set("kiln_access", open_session(app, viewer).access_token)
        rules = get_page(client, "/alerts/rules")
        assert rules.find_all("tr", data_rule="fraud accuracy")
        assert rules.find_all("form", id="rule-form") == []
        assert rules.find("tr", data_rule="fraud accuracy").find_all("form") == []
        assert get_page(client, f"/alerts/incidents/{incident}").find_all("form", id="ack-form") == []


class TestNotificationSettings:
    def test_a_user_turns_alert_mail_off(self, app: FastAPI, client: TestClient, logged_in: Account) -> None:
        page = get_page(client, "/settings/notifications")
        assert page.find_all("tr", data_kind="alert.firing")
        saved = submit(
            client, "/settings/notifications", "/settings/notifications", {"in_app:alert.firing": "1"}
        )
        assert saved.status_code == 303
        with database(app).unit_of_work() as session:
            chosen = {item.kind: item for item in notifications.get_settings(session, logged_in.id)}
        assert (chosen["alert.firing"].in_app, chosen["alert.firing"].email) == (True, False)
        assert chosen["alert.resolved"].in_app is False

    def test_a_loopback_webhook_is_refused_and_an_email_channel_is_created(
        self, app: FastAPI, client: TestClient
    ) -> None:
        project = default_project_id(app)
        refused = submit(
            client,
            "/settings/notifications",
            "/settings/notifications/channels",
            {
                "project": project,
                "name": "hook",
                "kind": "webhook",
                "url": "http://127.0.0.1:9/hook",
                "secret": "s3cret-signing-key-0123",
            },
        )
        assert refused.status_code == 400
        message = parse_html(refused.text).find(id="form-error").text()
        assert "loopback address" in message
        assert "127.0.0.1" in message

        created = submit(
            client,
            "/settings/notifications",
            "/settings/notifications/channels",
            {"project": project, "name": "oncall", "kind": "email", "to": "ops@kiln.test, lead@kiln.test"},
        )
        assert created.status_code == 303, created.text
        page = get_page(client, "/settings/notifications")
        row = page.find("tr", data_channel="oncall")
        assert "lead@kiln.test, ops@kiln.test" in row.text()
        assert page.find_all("tr", data_channel="hook") == []
        channel_id = row.find("form").attrs["action"].split("/")[-2]
        submit(
            client,
            "/settings/notifications",
            f"/settings/notifications/channels/{channel_id}/enabled",
            {"enabled": "0"},
        )
        row = get_page(client, "/settings/notifications").find("tr", data_channel="oncall")
        assert row.find_all(data_enabled="no")

    def test_a_viewer_sees_channels_without_forms(self, app: FastAPI, client: TestClient) -> None:
        viewer = make_account(app, role=Role.viewer, project_role=Role.viewer)
        client.cookies.set("kiln_access", open_session(app, viewer).access_token)
        page = get_page(client, "/settings/notifications")
        assert page.find_all(id="channels")
        assert page.find_all("form", id="channel-form") == []
