"""Ending a run is one conditional write (security review M5): racing requests get one answer.

Requests are released together at a barrier, against a live server, a few rounds each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import bearer
from tests.live_server import serve
from tests.tracking.api import API, create_run, get_run

ROUNDS = 3


@pytest.fixture
def live(app: FastAPI, admin_token: str) -> Iterator[httpx.Client]:
    with serve(app) as url, httpx.Client(base_url=url, timeout=60, headers=bearer(admin_token)) as client:
        yield client


def at_once(
    live: httpx.Client, requests: list[Callable[[httpx.Client], httpx.Response]]
) -> list[httpx.Response]:
    """Send each request from its own thread and connection, all released at the same instant."""
    barrier = threading.Barrier(len(requests))
    responses: list[httpx.Response | None] = [None] * len(requests)

    def worker(index: int) -> None:
        with httpx.Client(base_url=live.base_url, timeout=60, headers=live.headers) as client:
            barrier.wait(timeout=30)
            responses[index] = requests[index](client)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]


def status_changes(live: httpx.Client, run_id: str) -> list[Any]:
    body = live.get(f"{API}/audit", params={"target_id": run_id, "action": "run.updated"}).json()
    records = body["items"] if isinstance(body, dict) else body  # a list today; maybe a page later
    return [record["details"]["status"] for record in records if "status" in record["details"]]


class TestRacingStatusChanges:
    def test_one_terminal_status_wins_and_the_audit_agrees(self, live: httpx.Client) -> None:
        for _ in range(ROUNDS):
            run = create_run(live)
            url = f"{API}/runs/{run['id']}"
            statuses = ["finished", "failed", "killed", "finished", "failed", "killed"]

            responses = at_once(
                live, [lambda c, s=s, url=url: c.patch(url, json={"status": s}) for s in statuses]
            )

            final = get_run(live, run["id"])["status"]
            for status, response in zip(statuses, responses, strict=True):
                # The winner, and a repeat of the winner's transition, succeed; everything else is refused.
                if status == final:
                    assert response.status_code == 200, response.text
                    assert response.json()["status"] == final
                else:
                    assert response.status_code == 409, response.text
                    assert response.json()["error"]["code"] == "invalid_state"
            assert status_changes(live, run["id"]) == [final]

    def test_a_repeated_finish_succeeds_once_in_the_audit(self, live: httpx.Client) -> None:
        run = create_run(live)
        url = f"{API}/runs/{run['id']}"

        responses = at_once(live, [lambda c: c.patch(url, json={"status": "finished"})] * 4)

        assert [response.status_code for response in responses] == [200] * 4
        assert len({response.json()["end_time"] for response in responses}) == 1
        assert status_changes(live, run["id"]) == ["finished"]


class TestNothingLandsAfterTheFinish:
    def test_the_run_stays_as_it_was_when_it_finished(self, live: httpx.Client) -> None:
        for _ in range(ROUNDS):
            run = create_run(live)
            url = f"{API}/runs/{run['id']}"

            def batch(index: int, url: str = url) -> Callable[[httpx.Client], httpx.Response]:
                body = {"metrics": [{"key": f"m{index}", "value": 1.0}]}
                return lambda client: client.post(f"{url}/batch", json=body)

            requests = [batch(i) for i in range(5)]
            requests.insert(2, lambda client, url=url: client.patch(url, json={"status": "finished"}))

            responses = at_once(live, requests)

            finish = responses.pop(2)
            assert finish.status_code == 200, finish.text
            # Every batch either made it in before the finish, or was refused.
            assert {r.status_code for r in responses} <= {200, 409}
            accepted = {f"m{i}" for i, r in enumerate(responses) if r.status_code == 200}
            assert set(finish.json()["metrics"]) == accepted
            assert set(get_run(live, run["id"])["metrics"]) == accepted
