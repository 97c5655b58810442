"""End to end: a client logs two iris runs over HTTP; a user browses, charts and compares them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.iris_experiment import STEPS, IrisExperiment, log_iris_experiment

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("signed_in")]

# Elements reaching past the right edge of the viewport, outside boxes that scroll on their own.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-scroll'))
  .slice(0, 8).map(el => `${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className}`)"""


@pytest.fixture
def iris(live_server: LiveServer, api_token: str) -> IrisExperiment:
    return log_iris_experiment(live_server.url, api_token)


def _wait_for_charts(page: Page, count: int) -> None:
    charts = page.locator(".chart")
    expect(charts).to_have_count(count)
    for index in range(count):
        chart = charts.nth(index)
        # Charts are drawn as they scroll into view.
        chart.scroll_into_view_if_needed()
        expect(chart.locator(".main-svg").first).to_be_visible()


def _full_page_screenshot(page: Page, path: Path) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=True)


def test_experiment_page_lists_the_runs_and_sorts_by_a_metric(
    page: Page, live_server: LiveServer, iris: IrisExperiment, screenshots: Path
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=iris.name).click()
    rows = page.locator("#runs-table tbody tr")
    expect(rows).to_have_count(2)
    for run in iris.runs:
        expect(page.locator("#runs-table")).to_contain_text(run.name)
    expect(page.locator("th[data-column='param:C']")).to_be_visible()
    expect(page.locator("th[data-column='metric:accuracy']")).to_be_visible()

    page.locator("th[data-column='metric:accuracy'] a").click()
    expect(page.locator("th[data-column='metric:accuracy']")).to_have_attribute("aria-sort", "descending")
    best = max(iris.runs, key=lambda run: run.final_accuracy)
    worst = min(iris.runs, key=lambda run: run.final_accuracy)
    assert best.final_accuracy > worst.final_accuracy
    expect(rows.first.locator(".col-name")).to_have_text(best.name)
    page.locator("th[data-column='metric:accuracy'] a").click()
    expect(page.locator("th[data-column='metric:accuracy']")).to_have_attribute("aria-sort", "ascending")
    expect(rows.first.locator(".col-name")).to_have_text(worst.name)
    _full_page_screenshot(page, screenshots / "experiment.png")


def test_an_invalid_filter_shows_what_is_wrong(
    page: Page, live_server: LiveServer, iris: IrisExperiment, screenshots: Path
) -> None:
    page.goto(f"{live_server.url}/experiments/{iris.id}")
    page.locator("#filter").fill("metrics.accuracy >> 0.5")
    page.locator("#filter").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("invalid filter")
    expect(page.locator("#filter")).to_have_value("metrics.accuracy >> 0.5")
    _full_page_screenshot(page, screenshots / "invalid-filter.png")

    page.locator("#filter").fill(f"params.C = '{iris.runs[0].C}'")
    page.locator("#filter").press("Enter")
    expect(page.locator("#runs-table tbody tr")).to_have_count(1)
    expect(page.locator("#runs-table")).to_contain_text(iris.runs[0].name)


def test_an_unknown_run_shows_a_friendly_404_page(
    page: Page, live_server: LiveServer, screenshots: Path
) -> None:
    response = page.goto(f"{live_server.url}/runs/no-such-run")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("run 'no-such-run' not found")
    _full_page_screenshot(page, screenshots / "not-found.png")
    page.get_by_role("link", name="Back to experiments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Experiments")
    expect(page.locator("main")).to_contain_text("No experiments yet")
    _full_page_screenshot(page, screenshots / "no-experiments.png")


def test_run_page_draws_a_chart_per_metric(
    page: Page, live_server: LiveServer, iris: IrisExperiment, screenshots: Path
) -> None:
    run = iris.runs[1]
    page.goto(f"{live_server.url}/runs/{run.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(run.name)
    expect(page.locator("#params")).to_contain_text(str(run.C))
    _wait_for_charts(page, 2)
    accuracy_chart = page.locator(".chart[data-chart-key='accuracy']")
    expect(accuracy_chart.locator(".scatterlayer .trace")).to_have_count(1)
    # Every logged step is a point on the curve.
    expect(accuracy_chart.locator(".scatterlayer .trace .point")).to_have_count(STEPS)
    expect(page.get_by_role("link", name="report.json")).to_have_attribute(
        "href", f"/api/v1/runs/{run.id}/artifacts/report.json"
    )
    expect(page.locator("#inputs")).to_contain_text("iris")
    _full_page_screenshot(page, screenshots / "run.png")


def test_compare_page_shows_the_runs_side_by_side(
    page: Page, live_server: LiveServer, iris: IrisExperiment, screenshots: Path
) -> None:
    page.goto(f"{live_server.url}/experiments/{iris.id}")
    compare = page.locator("#compare-button")
    expect(compare).to_be_disabled()
    page.locator("[data-select-all]").check()
    expect(compare).to_be_enabled()
    compare.click()
    page.wait_for_url("**/compare?**")

    for run in iris.runs:
        expect(page.locator("#compare-runs")).to_contain_text(run.name)
    expect(page.locator("tr[data-param='C']")).to_have_class("differs")
    expect(page.locator("tr[data-param='loss']")).to_have_class("same")
    best = max(iris.runs, key=lambda run: run.final_accuracy)
    worst = min(iris.runs, key=lambda run: run.final_accuracy)
    accuracy_row = page.locator("tr[data-metric='accuracy']")
    expect(accuracy_row.locator(f"td[data-run-id='{best.id}']")).to_have_class(re.compile(r"\bbest\b"))
    expect(accuracy_row.locator(f"td[data-run-id='{worst.id}']")).not_to_have_class(re.compile(r"\bbest\b"))

    _wait_for_charts(page, 2)
    accuracy_chart = page.locator(".chart[data-chart-key='accuracy']")
    expect(accuracy_chart.locator(".scatterlayer .trace")).to_have_count(2)
    expect(accuracy_chart.locator(".legend")).to_contain_text(iris.runs[0].name)

    page.locator("[data-only-differing]").check()
    expect(page.locator("tr[data-param='loss']")).to_be_hidden()
    expect(page.locator("tr[data-param='C']")).to_be_visible()
    _full_page_screenshot(page, screenshots / "compare.png")


def test_pages_fit_a_phone_screen(
    page: Page, live_server: LiveServer, iris: IrisExperiment, screenshots: Path
) -> None:
    page.set_viewport_size(PHONE)
    ids = ",".join(run.id for run in iris.runs)
    for name, path, charts in (
        ("experiments", "/experiments", 0),
        ("experiment", f"/experiments/{iris.id}", 0),
        ("run", f"/runs/{iris.runs[0].id}", 2),
        ("compare", f"/compare?ids={ids}", 2),
    ):
        page.goto(live_server.url + path)
        if charts:
            _wait_for_charts(page, charts)
        # Wide tables scroll inside their box; the page itself never scrolls sideways.
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= PHONE["width"], (
            f"{name} page is {page_width}px wide on a phone; too wide: {page.evaluate(OVERFLOWING)}"
        )
        _full_page_screenshot(page, screenshots / f"phone-{name}.png")
