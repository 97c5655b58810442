"""Requests racing on the same name or key get a clear answer (201/200 or 409), never a 500."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.builders import bearer
from tests.live_server import serve
from tests.tracking.api import API, create_run

CLIENTS = 4
TOKEN: dict[str, str] = {}
ROUNDS = 3


@pytest.fixture
def live(app: FastAPI, admin_token: str) -> Iterator[str]:
    TOKEN["value"] = admin_token
    with serve(app) as url:
        yield url


def race(url: str, request: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    """Send ``request`` from CLIENTS threads released at the same instant; returns every response."""
    barrier = threading.Barrier(CLIENTS)
    responses: list[httpx.Response] = []
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=bearer(TOKEN["value"])) as client:
            barrier.wait(timeout=30)
            try:
                responses.append(request(client, index))
            except httpx.HTTPError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return responses


class TestRacingWrites:
    def test_one_experiment_name_created_at_once(self, live: str) -> None:
        for round_ in range(ROUNDS):
            name = f"contested-{round_}"

            responses = race(
                live, lambda client, _i, name=name: client.post(f"{API}/experiments", json={"name": name})
            )

            assert sorted(r.status_code for r in responses) == [201] + [409] * (CLIENTS - 1)
            assert all(r.json()["error"]["code"] == "conflict" for r in responses if r.status_code == 409)

    def test_same_param_value_logged_at_once(self, live: str) -> None:
        with httpx.Client(base_url=live, headers=bearer(TOKEN["value"])) as client:
            run = create_run(client)
        for round_ in range(ROUNDS):
            body = {"params": [{"key": f"p{round_}", "value": "same"}]}

            responses = race(
                live, lambda client, _i, body=body: client.post(f"{API}/runs/{run['id']}/batch", json=body)
            )

            assert [r.status_code for r in responses] == [200] * CLIENTS

    def test_different_param_values_logged_at_once(self, live: str) -> None:
        with httpx.Client(base_url=live, headers=bearer(TOKEN["value"])) as client:
            run = create_run(client)
        for round_ in range(ROUNDS):
            key = f"p{round_}"

            responses = race(
                live,
                lambda client, i, key=key: client.post(
                    f"{API}/runs/{run['id']}/batch", json={"params": [{"key": key, "value": f"v{i}"}]}
                ),
            )

            assert sorted(r.status_code for r in responses) == [200] + [409] * (CLIENTS - 1)
            with httpx.Client(base_url=live, headers=bearer(TOKEN["value"])) as client:
                kept = client.get(f"{API}/runs/{run['id']}").json()["params"][key]
            assert all(
                r.json()["error"]["details"]["logged"] == kept for r in responses if r.status_code == 409
            )

    def test_same_artifact_uploaded_at_once(self, live: str) -> None:
        # An SDK retry can overlap the first attempt: both must succeed and leave one intact file.
        data = os.urandom(3 * 1024 * 1024)
        with httpx.Client(base_url=live, headers=bearer(TOKEN["value"])) as client:
            run = create_run(client)
        path = f"{API}/runs/{run['id']}/artifacts/model.bin"

        for _ in range(ROUNDS):
            responses = race(live, lambda client, _i: client.put(path, content=data))

            assert [r.status_code for r in responses] == [201] * CLIENTS
            with httpx.Client(base_url=live, timeout=30, headers=bearer(TOKEN["value"])) as client:
                download = client.get(path)
            assert download.content == data
            assert download.headers["x-checksum-sha256"] == hashlib.sha256(data).hexdigest()
