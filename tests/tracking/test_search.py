"""Run search over HTTP: filters, ordering, cursors and the messages for bad queries."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiln.core.errors import Invalid
from kiln.core.pagination import PageParams
from kiln.tracking import search, service
from kiln.tracking.schemas import RunStatus, RunUpdate
from kiln.tracking.search_filter import parse_filter
from tests.api import error_of
from tests.builders import TEST_ACTOR, make_experiment, make_run
from tests.tracking.api import API, create_experiment, create_run, log_batch

# name: (metrics, params, tags, final status)
RUNS: dict[str, tuple[dict[str, float], dict[str, str], dict[str, str], str | None]] = {
    "r1": (
        {"acc": 0.95, "loss": 0.1, "val.loss": 0.2},
        {"C": "1.0", "model": "svm"},
        {"team": "risk"},
        "finished",
    ),
    "r2": (
        {"acc": 0.80, "loss": 0.3, "val.loss": 0.4},
        {"C": "0.5", "model": "rf"},
        {"team": "growth"},
        None,
    ),
    "r3": ({"acc": 0.90}, {"C": "2.0", "model": "svm-linear"}, {"team": "risk"}, "finished"),
    "r4": ({}, {}, {}, "failed"),
}


@pytest.fixture
def runs(session: Session) -> dict[str, str]:
    """Four runs in one experiment, built in the service and committed; returns name -> id."""
    experiment = make_experiment(session)
    ids: dict[str, str] = {}
    for name, (metrics, params, tags, status) in RUNS.items():
        run = make_run(session, experiment, name=name, metrics=metrics, params=params, tags=tags)
        if status:
            service.update_run(session, TEST_ACTOR, run.id, RunUpdate(status=RunStatus(status)))
        ids[name] = run.id
    session.commit()
    return ids


def names(client: TestClient, **query: Any) -> list[str]:
    response = client.get(f"{API}/runs", params=query)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


METRIC_FILTERS: list[tuple[str, set[str]]] = [
    ("metrics.acc > 0.85", {"r1", "r3"}),
    ("metrics.acc < 0.85", {"r2"}),
    ("metrics.acc >= 0.9", {"r1", "r3"}),
    ("metrics.acc <= 0.9", {"r2", "r3"}),
    ("metrics.acc = 0.8", {"r2"}),
    ("metrics.acc != 0.8", {"r1", "r3"}),
    ("metric.loss < 1e-1", set()),
    ("metrics.loss <= 1e-1", {"r1"}),
    ("metrics.acc > -1", {"r1", "r2", "r3"}),
]


class TestFilterByMetric:
    def test_comparisons(self, client: TestClient, runs: dict[str, str]) -> None:
        # One set of runs, many expressions: every mismatch is reported at once.
        wrong = {
            expression: found
            for expression, expected in METRIC_FILTERS
            if (found := set(names(client, filter=expression))) != expected
        }

        assert wrong == {}

    def test_keys_with_dots_quoted_or_not(self, client: TestClient, runs: dict[str, str]) -> None:
        assert names(client, filter="metrics.`val.loss` < 0.3") == ["r1"]
        assert names(client, filter="metrics.val.loss > 0.3") == ["r2"]
        assert names(client, filter='metrics."val.loss" = 0.2') == ["r1"]

    def test_total_counts_the_matches(self, client: TestClient, runs: dict[str, str]) -> None:
        body = client.get(f"{API}/runs", params={"filter": "metrics.acc > 0.85"}).json()

        assert body["total"] == 2


TEXT_FILTERS: list[tuple[str, set[str]]] = [
    ("params.model = 'svm'", {"r1"}),
    ("params.model != 'svm'", {"r2", "r3"}),
    ("params.model LIKE 'svm%'", {"r1", "r3"}),
    ("params.model like '%f'", {"r2"}),
    # LIKE is case-sensitive on every backend; ILIKE is not.
    ("params.model LIKE 'SVM%'", set()),
    ("params.model ILIKE 'SVM%'", {"r1", "r3"}),
    ("tags.team ilike 'RISK'", {"r1", "r3"}),
    ('params.C = "0.5"', {"r2"}),
    ("tags.team = 'risk'", {"r1", "r3"}),
    ("tags.team != 'risk'", {"r2"}),
    ("tags.team LIKE '%ow%'", {"r2"}),
    ("status = 'finished'", {"r1", "r3"}),
    ("attributes.status = 'failed'", {"r4"}),
    ("status != 'running'", {"r1", "r3", "r4"}),
    ("name LIKE 'r%'", {"r1", "r2", "r3", "r4"}),
]


class TestFilterByParamTagAndAttribute:
    def test_comparisons(self, client: TestClient, runs: dict[str, str]) -> None:
        # One set of runs, many expressions: every mismatch is reported at once.
        wrong = {
            expression: found
            for expression, expected in TEXT_FILTERS
            if (found := set(names(client, filter=expression))) != expected
        }

        assert wrong == {}

    def test_unquoted_number_matches_a_param_as_typed(self, client: TestClient, runs: dict[str, str]) -> None:
        # The param was logged as "1.0"; an unquoted 1.0 must not be rewritten to "1".
        assert names(client, filter="params.C = 1.0") == ["r1"]
        assert names(client, filter="params.C = 0.5") == ["r2"]

    def test_conditions_combine_with_and(self, client: TestClient, runs: dict[str, str]) -> None:
        expression = (
            "metrics.acc > 0.85 and params.model = 'svm' AND tags.team = 'risk' and status = 'finished'"
        )

        assert names(client, filter=expression) == ["r1"]

    def test_and_narrows(self, client: TestClient, runs: dict[str, str]) -> None:
        assert set(names(client, filter="tags.team = 'risk' and metrics.acc < 0.93")) == {"r3"}

    def test_experiment_scope(self, client: TestClient, runs: dict[str, str]) -> None:
        create_run(client, name="elsewhere")

        assert "elsewhere" in names(client)
        scoped = names(client, experiment_id=client.get(f"{API}/runs/{runs['r1']}").json()["experiment_id"])
        assert sorted(scoped) == ["r1", "r2", "r3", "r4"]


class TestOrderBy:
    def test_metric_descending_puts_runs_without_it_last(
        self, client: TestClient, runs: dict[str, str]
    ) -> None:
        assert names(client, order_by="metrics.acc DESC") == ["r1", "r3", "r2", "r4"]

    def test_metric_ascending_puts_runs_without_it_last(
        self, client: TestClient, runs: dict[str, str]
    ) -> None:
        assert names(client, order_by="metrics.acc ASC") == ["r2", "r3", "r1", "r4"]
        assert names(client, order_by="metrics.loss")[:2] == ["r1", "r2"]

    def test_metric_with_a_dotted_key(self, client: TestClient, runs: dict[str, str]) -> None:
        assert names(client, order_by="metrics.val.loss DESC")[:2] == ["r2", "r1"]
        assert names(client, order_by="metrics.`val.loss` ASC")[:2] == ["r1", "r2"]

    def test_param(self, client: TestClient, runs: dict[str, str]) -> None:
        assert names(client, order_by="params.C ASC") == ["r2", "r1", "r3", "r4"]
        assert names(client, order_by="params.C DESC") == ["r3", "r1", "r2", "r4"]

    def test_default_is_newest_first(self, client: TestClient, runs: dict[str, str]) -> None:
        assert names(client) == ["r4", "r3", "r2", "r1"]
        assert names(client, order_by="start_time ASC") == ["r1", "r2", "r3", "r4"]

    def test_filter_and_order_together(self, client: TestClient, runs: dict[str, str]) -> None:
        assert names(client, filter="tags.team = 'risk'", order_by="metrics.acc ASC") == ["r3", "r1"]

    @pytest.mark.parametrize("order_by", ["tags.team", "metrics.acc UP", "colour", "a b c"])
    def test_invalid_order_is_400(self, client: TestClient, order_by: str) -> None:
        response = client.get(f"{API}/runs", params={"order_by": order_by})

        assert response.status_code == 400
        assert "order" in error_of(response)["message"]


BAD_CURSORS = [
    "garbage!",
    "e30",  # {}
    "eyJvIjogLTF9",  # {"o": -1}
    "eyJvIjogIngifQ",  # {"o": "x"}
    "eyJvIjogdHJ1ZX0",  # {"o": true}
    "eyJvIjogMTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMH0",  # {"o": 10**30}
]


class TestPagination:
    def walk(self, client: TestClient, **query: Any) -> tuple[list[str], int]:
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            params = {**query, **({"cursor": cursor} if cursor else {})}
            body = client.get(f"{API}/runs", params=params).json()
            seen.extend(item["id"] for item in body["items"])
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                return seen, pages
            assert pages < 50, "cursor never ends"

    def test_every_run_exactly_once(self, client: TestClient) -> None:
        experiment = create_experiment(client)
        created = {create_run(client, experiment["id"])["id"] for _ in range(17)}

        seen, pages = self.walk(client, limit=5)

        assert pages == 4
        assert len(seen) == len(set(seen)) == 17
        assert set(seen) == created

    def test_every_run_exactly_once_when_ordered_by_a_shared_metric_value(self, client: TestClient) -> None:
        experiment = create_experiment(client)
        created = set()
        for i in range(12):
            run = create_run(client, experiment["id"])
            if i % 3:
                # Ties on the sort key must still page without repeats or gaps.
                log_batch(client, run["id"], metrics=[{"key": "acc", "value": 0.5}])
            created.add(run["id"])

        seen, _ = self.walk(client, limit=4, order_by="metrics.acc DESC")

        assert len(seen) == len(set(seen)) == 12
        assert set(seen) == created

    def test_filtered_pages_report_the_total(self, client: TestClient, runs: dict[str, str]) -> None:
        body = client.get(f"{API}/runs", params={"filter": "tags.team = 'risk'", "limit": 1}).json()

        assert body["total"] == 2
        assert len(body["items"]) == 1
        assert body["next_cursor"] is not None

    def test_bad_cursor_is_400(self, client: TestClient) -> None:
        responses = {cursor: client.get(f"{API}/runs", params={"cursor": cursor}) for cursor in BAD_CURSORS}

        assert {c: r.status_code for c, r in responses.items() if r.status_code != 400} == {}
        assert all("next_cursor" in error_of(r)["message"] for r in responses.values())

    def test_limit_out_of_range_is_422(self, client: TestClient) -> None:
        responses = [client.get(f"{API}/runs", params={"limit": limit}) for limit in (0, -1, 1001)]

        assert [r.status_code for r in responses] == [422, 422, 422]
        assert all("limit" in error_of(r)["message"] for r in responses)

    @pytest.mark.parametrize("cursor", BAD_CURSORS)
    def test_decoding_a_bad_cursor_is_invalid(self, cursor: str) -> None:
        with pytest.raises(Invalid, match="next_cursor"):
            search.decode_cursor(cursor)

    def test_cursors_round_trip(self) -> None:
        assert search.decode_cursor(search.encode_cursor(12_345)) == 12_345
        assert search.decode_cursor(None) == 0


INVALID_FILTERS: list[tuple[str, str]] = [
    ("colour = 'red'", "unknown run attribute 'colour'"),
    ("metrics.acc >", "a value after '>'"),
    ("metrics.acc", "a comparison"),
    ("metrics.acc > 0.5 ; drop table runs", "unexpected character ';'"),
    ("metrics.acc > 0.5 or metrics.acc < 0.1", "'and' between conditions"),
    ("params.C > 1", "= != LIKE"),
    ("metrics.acc > 'high'", "compares to a number"),
    ("metrics.acc LIKE '0.9%'", "compares to a number"),
    ("metrics. > 1", "a key after the '.'"),
    ("tags.team = risk", "not a number or a quoted string"),
    ("start_time > 'yesterday'", "milliseconds"),
]


class TestInvalidFilter:
    @pytest.mark.parametrize(("expression", "hint"), INVALID_FILTERS)
    def test_the_parser_says_what_to_fix(self, expression: str, hint: str) -> None:
        with pytest.raises(Invalid) as refused:
            parse_filter(expression)

        assert hint in refused.value.message

    def test_the_api_answers_400_with_that_message(self, client: TestClient) -> None:
        responses = {
            expression: client.get(f"{API}/runs", params={"filter": expression})
            for expression, _ in INVALID_FILTERS
        }

        assert {e: r.status_code for e, r in responses.items() if r.status_code != 400} == {}
        for expression, hint in INVALID_FILTERS:
            error = error_of(responses[expression])
            assert error["code"] == "invalid"
            assert hint in error["message"]


class TestSearchService:
    def test_start_time_filter_in_milliseconds(self, session: Session) -> None:
        experiment = make_experiment(session)
        old = make_run(session, experiment, start_time="2020-01-01T00:00:00Z")
        new = make_run(session, experiment, start_time="2024-01-01T00:00:00Z")

        after = search.list_runs(session, TEST_ACTOR, PageParams(), filter="start_time > 1600000000000")
        before = search.list_runs(session, TEST_ACTOR, PageParams(), filter="start_time < 1600000000000")

        assert [run.id for run in after.items] == [new.id]
        assert [run.id for run in before.items] == [old.id]

    def test_limit_is_checked(self, session: Session) -> None:
        with pytest.raises(Invalid, match="limit"):
            search.list_runs(session, TEST_ACTOR, PageParams(limit=0))

    def test_params_compare_as_text(self, session: Session) -> None:
        experiment = make_experiment(session)
        make_run(session, experiment, params={"depth": "10"})
        nine = make_run(session, experiment, params={"depth": "9"})

        page = search.list_runs(session, TEST_ACTOR, PageParams(), order_by="params.depth DESC")

        # Params are text: "9" sorts after "10".
        assert page.items[0].id == nine.id


class TestTimeFilterBounds:
    @pytest.mark.parametrize("value", ["inf", "nan", "1e300", "-1e20", "253402300800000"])
    def test_a_time_no_datetime_can_hold_is_a_clear_400(self, client: TestClient, value: str) -> None:
        create_run(client)

        response = client.get(f"{API}/runs", params={"filter": f"start_time > {value}"})

        assert response.status_code == 400, response.text
        assert "milliseconds since the epoch between 0 and 253402300799999" in error_of(response)["message"]

    def test_the_bounds_themselves_are_accepted(self, client: TestClient) -> None:
        create_run(client)

        newest = client.get(f"{API}/runs", params={"filter": "start_time < 253402300799999"})
        oldest = client.get(f"{API}/runs", params={"filter": "end_time > 0"})

        assert (newest.status_code, len(newest.json()["items"])) == (200, 1)
        assert oldest.status_code == 200
