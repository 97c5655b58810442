"""Concurrent refreshes of one login are not token theft (M4); a replay after the grace window is.

Several requests are released at once at a barrier, each presenting the same refresh token, through
the API refresh route and through the UI's transparent refresh (an expired access cookie).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.core.security import encode_access_token
from tests.auth.builders import spent_long_ago
from tests.builders.audit import audit_records
from tests.builders.auth import api, make_account, open_session

PARALLEL = 4


def at_once(request: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(PARALLEL)

    def released() -> httpx.Response:
        barrier.wait(timeout=10)
        return request()

    with ThreadPoolExecutor(PARALLEL) as pool:
        return [future.result(timeout=60) for future in [pool.submit(released) for _ in range(PARALLEL)]]


def reuse_records(app: FastAPI) -> list[str]:
    return [r.action for r in audit_records(app) if r.action == "session.revoked"]


class TestApiRefresh:
    def test_parallel_refreshes_with_one_token_all_get_the_same_successor(self, app: FastAPI) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        with TestClient(app) as client:
            answers = at_once(
                lambda: client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
            )
        assert [answer.status_code for answer in answers] == [200] * PARALLEL
        successors = {answer.json()["refresh_token"] for answer in answers}
        assert len(successors) == 1
        assert pair.refresh_token not in successors
        for answer in answers:
            assert api(app, answer.json()["access_token"]).get("/api/v1/me").status_code == 200
        assert reuse_records(app) == []
        # The successor rotates as usual.
        (successor,) = successors
        after = api(app).post("/api/v1/auth/refresh", json={"refresh_token": successor})
        assert after.status_code == 200

    def test_a_replay_after_the_grace_window_still_revokes_the_session(self, app: FastAPI) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        client = api(app)
        newest = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token}).json()
        within = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
        assert within.status_code == 200
        assert within.json()["refresh_token"] == newest["refresh_token"]

        spent_long_ago(app, pair.refresh_token)
        late = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
        assert late.status_code == 401
        assert api(app, newest["access_token"]).get("/api/v1/me").status_code == 401
        assert reuse_records(app) == ["session.revoked"]


class TestUiRefresh:
    def test_parallel_page_loads_after_the_access_cookie_expired_stay_logged_in(self, app: FastAPI) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        expired = encode_access_token(
            {"sub": account.id, "sid": "expired"},
            secret=kiln_state(app).auth_config.secret_key,
            ttl=timedelta(seconds=-5),
        )

        def page_load() -> httpx.Response:
            # Each tab is its own client with the browser's cookies: an expired access one, the refresh one.
            with TestClient(app, follow_redirects=False) as tab:
                tab.cookies.set("kiln_access", expired)
                tab.cookies.set("kiln_refresh", pair.refresh_token)
                return tab.get("/experiments")

        answers = at_once(page_load)
        assert [answer.status_code for answer in answers] == [200] * PARALLEL
        refreshed = {answer.cookies.get("kiln_refresh") for answer in answers}
        assert len(refreshed) == 1
        assert reuse_records(app) == []
        # The session lives on with the successor the tabs were given.
        with TestClient(app, follow_redirects=False) as browser:
            browser.cookies.set("kiln_refresh", refreshed.pop() or "")
            assert browser.get("/experiments").status_code == 200
