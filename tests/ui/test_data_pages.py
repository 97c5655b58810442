"""The data pages: the datasets list, a dataset with its versions, schema, statistics and quality
trend (charts and CSV), one version with its checks and refused rows, and a diff of two versions."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.builders.auth import Account, access_token, api, make_account, open_session
from tests.builders.datasets import append, batch, commit, create_telemetry, records_of, upload_frame
from tests.ui.html_tree import Element, chart_data, get_page, parse_html
from tests.ui.sessions import submit

pytestmark = pytest.mark.usefixtures("logged_in")


@pytest.fixture
def telemetry(app: FastAPI, logged_in: Account) -> list[dict[str, object]]:
    """``telemetry`` with two versions: clean readings, then new readings of which some are bad."""
    with api(app, access_token(app, logged_in)) as rest:
        create_telemetry(rest)
        first = upload_frame(rest, batch(96, seed=1))
        second = upload_frame(rest, batch(96, seed=2, bad_fraction=0.1))
    return [first, second]


def href(version: dict[str, object], path: str = "") -> str:
    return f"/datasets/telemetry{path}?project={version['project_id']}"


class TestDataPages:
    def test_the_list_shows_the_dataset_and_its_latest_version(
        self, client: TestClient, telemetry: list[dict[str, object]]
    ) -> None:
        page = get_page(client, "/datasets")
        row = page.find("tr", data_dataset="telemetry")
        cells = [cell.text() for cell in row.find_all("td")]
        assert cells[0] == "telemetry"
        assert cells[3] == "v2"
        assert "Data" in {link.text() for link in page.find("nav", aria_label="Main").find_all("a")}

    def test_the_dataset_page_shows_versions_and_the_quality_trend(
        self, client: TestClient, telemetry: list[dict[str, object]]
    ) -> None:
        first, second = telemetry
        page = get_page(client, href(first))

        rows = {
            row.attrs["data-version"]: row
            for row in page.find("table", id="versions-table").find_all("tr")
            if "data-version" in row.attrs
        }
        assert set(rows) == {"1", "2"}
        quarantined = int(str(second["quarantine"]["rows"]))  # type: ignore[index]
        assert quarantined > 0
        assert [c.text() for c in rows["2"].find_all("td")][2] == f"{quarantined:,}"
        assert {
            row.attrs["data-column"]
            for row in page.find("table", id="schema-table").find_all("tr")
            if "data-column" in row.attrs
        } >= {"latency_ms", "link_id"}
        charts = {chart["key"]: chart for chart in chart_data(page)}
        kept, refused = charts["Rows per version"]["series"]
        assert kept["x"] == [1, 2]
        assert kept["y"] == [float(first["rows"]), float(second["rows"])]  # type: ignore[arg-type]
        assert refused["y"] == [0.0, float(quarantined)]

        exported = client.get(href(first, "/quality.csv"))
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(exported.text)))
        assert [(row["version"], row["rows"], row["quarantined"]) for row in table] == [
            ("1", str(first["rows"]), "0"),
            ("2", str(second["rows"]), str(quarantined)),
        ]

    def test_a_version_page_shows_its_checks_refusals_and_changes(
        self, client: TestClient, telemetry: list[dict[str, object]]
    ) -> None:
        second = telemetry[1]
        page = get_page(client, href(second, "/versions/2"))

        assert page.find("dd", data_fact="quarantined").text() == f"{second['quarantine']['rows']:,}"  # type: ignore[index]
        assert page.find("table", id="checks-table").find_all("tr", data_passed="true")
        assert page.find("table", id="reasons-table").find_all("tr")
        assert page.find("dd", data_change="rows_added").text() == f"{second['changes']['rows_added']:,}"  # type: ignore[index]
        download = page.find("a", id="download-csv").attrs["href"]
        rows = client.get(download)
        assert rows.status_code == 200
        assert len(list(csv.DictReader(io.StringIO(rows.text)))) == second["rows"]

    def test_the_diff_page_compares_any_two_versions(
        self, client: TestClient, telemetry: list[dict[str, object]]
    ) -> None:
        page = get_page(client, href(telemetry[0], "/diff") + "&from=1&to=2")
        assert "v1 → v2" in page.find("h1").text()
        assert (
            page.find("dd", data_change="rows_added").text() == f"{telemetry[1]['changes']['rows_added']:,}"
        )  # type: ignore[index]
        bad = client.get(href(telemetry[0], "/diff") + "&from=one&to=2")
        assert bad.status_code == 400
        assert "a version is a number from 1 or 'latest'" in parse_html(bad.text).text()

    def test_a_non_member_sees_no_dataset_and_gets_404(
        self, app: FastAPI, client: TestClient, telemetry: list[dict[str, object]]
    ) -> None:
        outsider = make_account(app, role=Role.data_scientist)
        client.cookies.set("kiln_access", open_session(app, outsider).access_token)
        assert get_page(client, "/datasets").find_all("tr", data_dataset="telemetry") == []
        for path in ("", "/versions/1", "/diff", "/quality.csv"):
            assert client.get(href(telemetry[0], path)).status_code == 404, path


class TestQuarantinePage:
    @pytest.fixture
    def quarantined(self, app: FastAPI, logged_in: Account) -> dict[str, object]:
        """``telemetry`` with appended readings of which three were refused, committed."""
        records = records_of(batch(30, seed=1))
        records[2]["latency_ms"] = 65_535.0
        records[5]["site"] = "xx"
        records[8]["site"] = "yy"
        with api(app, access_token(app, logged_in)) as rest:
            create_telemetry(rest)
            assert append(rest, records).status_code == 201
            version: dict[str, object] = commit(rest).json()
        return version

    def rows(self, page: Element) -> dict[str, Element]:
        table = page.find("table", id="quarantine-table")
        return {row.attrs["data-row"]: row for row in table.find_all("tr") if "data-row" in row.attrs}

    def test_the_dataset_page_links_to_the_quarantine(
        self, client: TestClient, quarantined: dict[str, object]
    ) -> None:
        page = get_page(client, href(quarantined))
        assert page.find("dd", data_fact="ingestion").text().startswith("on request")
        assert page.find("dd", data_fact="pending").text() == "0"
        link = page.find("a", id="quarantine-link").attrs["href"]
        assert link == href(quarantined, "/quarantine")
        review = get_page(client, link)
        reasons = sorted(cell.text() for cell in review.find_all("td", data_reasons=""))
        assert reasons == [
            "latency_ms: 65535 is above the maximum 10000",
            "site: 'xx' is not an allowed category",
            "site: 'yy' is not an allowed category",
        ]

    def test_filters_and_the_csv_of_what_is_shown(
        self, client: TestClient, quarantined: dict[str, object]
    ) -> None:
        page = get_page(client, href(quarantined, "/quarantine") + "&column=site")
        assert len(self.rows(page)) == 2
        download = client.get(page.find("a", id="download-quarantine").attrs["href"])
        assert download.status_code == 200
        assert len(list(csv.DictReader(io.StringIO(download.text)))) == 2
        bad = client.get(href(quarantined, "/quarantine") + "&status=maybe")
        assert bad.status_code in (400, 422)

    def test_release_and_discard_the_rows_ticked(
        self, client: TestClient, quarantined: dict[str, object]
    ) -> None:
        url = href(quarantined, "/quarantine")
        rows = self.rows(get_page(client, url + "&column=site"))
        first, second = sorted(rows)

        released = submit(
            client,
            url,
            f"/datasets/telemetry/quarantine/release?project={quarantined['project_id']}",
            {"ids": [first], "note": "checked"},
        )
        assert released.status_code == 303, released.text
        assert "notice=quarantine_released" in released.headers["location"]
        discarded = submit(
            client,
            url,
            f"/datasets/telemetry/quarantine/discard?project={quarantined['project_id']}",
            {"ids": [second]},
        )
        assert discarded.status_code == 303, discarded.text

        assert set(self.rows(get_page(client, url + "&status=released"))) == {first}
        assert set(self.rows(get_page(client, url + "&status=discarded"))) == {second}
        assert len(self.rows(get_page(client, url))) == 1
        again = submit(
            client,
            url,
            f"/datasets/telemetry/quarantine/discard?project={quarantined['project_id']}",
            {"ids": [second]},
        )
        assert again.status_code == 409
        assert "discarded already" in parse_html(again.text).find("div", id="form-error").text()
        nothing = submit(
            client, url, f"/datasets/telemetry/quarantine/discard?project={quarantined['project_id']}", {}
        )
        assert nothing.status_code == 400

    def test_viewers_see_the_rows_but_no_decision_buttons(
        self, app: FastAPI, client: TestClient, quarantined: dict[str, object]
    ) -> None:
        viewer = make_account(app, role=Role.viewer, project_role=Role.viewer)
        client.cookies.set("kiln_access", open_session(app, viewer).access_token)
        page = get_page(client, href(quarantined, "/quarantine"))
        assert len(self.rows(page)) == 3
        assert page.find_all("button", id="release-button") == []
        outsider = make_account(app, role=Role.data_scientist)
        client.cookies.set("kiln_access", open_session(app, outsider).access_token)
        assert client.get(href(quarantined, "/quarantine")).status_code == 404
