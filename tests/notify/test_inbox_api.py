"""The inbox over HTTP: each user sees and marks only their own notifications; a project's API key
only that project's."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import error_of
from tests.builders.auth import Account, access_token, api, default_project_id, make_member, make_project
from tests.builders.core import database
from tests.builders.notify import send

NOTIFICATIONS = "/api/v1/notifications"


def user_api(app: FastAPI, account: Account) -> TestClient:
    return api(app, access_token(app, account))


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def unread(client: TestClient) -> int:
    response = client.get(f"{NOTIFICATIONS}/unread-count")
    assert response.status_code == 200, response.text
    count: int = response.json()["unread"]
    return count


class TestOwnInboxOnly:
    def test_a_user_never_sees_or_marks_another_users_notification(self, app: FastAPI) -> None:
        ada, bob = make_member(app, Role.viewer), make_member(app, Role.admin)
        send(app, [ada], title="for ada")
        send(app, [bob], title="for bob")

        with user_api(app, ada) as as_ada, user_api(app, bob) as as_bob:
            [adas] = ids(as_ada.get(NOTIFICATIONS))
            [bobs] = ids(as_bob.get(NOTIFICATIONS))

            # Not even an administrator reads someone else's inbox; the answer is the same as for no id.
            for notification_id in (adas, "no-such-notification"):
                refused = as_bob.post(f"{NOTIFICATIONS}/{notification_id}/read")
                assert refused.status_code == 404
                assert error_of(refused)["code"] == "not_found"
            assert unread(as_ada) == 1
            assert as_bob.post(f"{NOTIFICATIONS}/read-all").json() == {"marked": 1}
            assert unread(as_ada) == 1
            assert ids(as_bob.get(NOTIFICATIONS)) == [bobs]

    def test_anonymous_callers_are_refused(self, anonymous_client: TestClient) -> None:
        for method, path in [
            ("GET", NOTIFICATIONS),
            ("GET", f"{NOTIFICATIONS}/unread-count"),
            ("POST", f"{NOTIFICATIONS}/read-all"),
            ("POST", f"{NOTIFICATIONS}/x/read"),
            ("GET", "/api/v1/me/notification-settings"),
            ("PUT", "/api/v1/me/notification-settings"),
        ]:
            assert anonymous_client.request(method, path).status_code == 401, (method, path)


class TestReading:
    def test_unread_count_and_mark_read(self, app: FastAPI) -> None:
        ada = make_member(app, Role.viewer)
        for n in range(3):
            send(app, [ada], title=f"news {n}")

        with user_api(app, ada) as client:
            newest, middle, oldest = ids(client.get(NOTIFICATIONS))
            assert unread(client) == 3

            marked = client.post(f"{NOTIFICATIONS}/{middle}/read")
            assert marked.status_code == 200
            assert marked.json()["read_at"] is not None
            # Again is fine and keeps the first time.
            assert client.post(f"{NOTIFICATIONS}/{middle}/read").json()["read_at"] == marked.json()["read_at"]

            assert unread(client) == 2
            assert ids(client.get(NOTIFICATIONS, params={"unread": "true"})) == [newest, oldest]
            assert client.post(f"{NOTIFICATIONS}/read-all").json() == {"marked": 2}
            assert unread(client) == 0
            assert ids(client.get(NOTIFICATIONS, params={"unread": "true"})) == []
            assert len(ids(client.get(NOTIFICATIONS))) == 3

    def test_pages_follow_the_cursor_newest_first_and_stay_put_when_news_arrives(self, app: FastAPI) -> None:
        ada = make_member(app, Role.viewer)
        for n in range(5):
            send(app, [ada], title=f"news {n}")

        with user_api(app, ada) as client:
            first = client.get(NOTIFICATIONS, params={"limit": 2}).json()
            assert [item["title"] for item in first["items"]] == ["news 4", "news 3"]
            send(app, [ada], title="news 5")  # arrives while the user pages
            second = client.get(NOTIFICATIONS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
            third = client.get(NOTIFICATIONS, params={"limit": 2, "cursor": second["next_cursor"]}).json()

        assert [item["title"] for item in second["items"]] == ["news 2", "news 1"]
        assert [item["title"] for item in third["items"]] == ["news 0"]
        assert third["next_cursor"] is None

    def test_a_made_up_cursor_is_a_400_that_says_what_to_pass(self, app: FastAPI) -> None:
        ada = make_member(app, Role.viewer)
        with user_api(app, ada) as client:
            for cursor in ("garbage", "eyJrIjogMX0", "eyJhIjogN30"):  # not JSON; {"k": 1}; {"a": 7}
                response = client.get(NOTIFICATIONS, params={"cursor": cursor})
                assert response.status_code == 400, cursor
                assert "next_cursor" in error_of(response)["message"]


class TestApiKeys:
    def test_a_key_reads_and_marks_its_owners_inbox_within_its_project_but_cannot_change_settings(
        self, app: FastAPI
    ) -> None:
        ada = make_member(app, Role.data_scientist)
        home = default_project_id(app)
        with database(app).unit_of_work() as session:
            elsewhere = make_project(session, members={ada.id: Role.data_scientist}).id
        send(app, [ada], title="in the default project", project_id=home)
        send(app, [ada], title="in another project", project_id=elsewhere)
        send(app, [ada], title="about no project")

        with user_api(app, ada) as as_ada:
            created = as_ada.post(
                "/api/v1/me/api-keys",
                json={"name": "ci", "project_id": home, "role": "data_scientist", "expires_in_days": 30},
            )
            assert created.status_code == 201, created.text
            assert len(ids(as_ada.get(NOTIFICATIONS))) == 3  # the person sees everything of theirs
            other = ids(as_ada.get(NOTIFICATIONS))[1]

        with api(app, created.json()["key"]) as as_key:
            listed = as_key.get(NOTIFICATIONS).json()["items"]
            assert [item["title"] for item in listed] == ["in the default project"]
            assert unread(as_key) == 1
            assert as_key.post(f"{NOTIFICATIONS}/{other}/read").status_code == 404
            assert as_key.post(f"{NOTIFICATIONS}/read-all").json() == {"marked": 1}
            assert as_key.get("/api/v1/me/notification-settings").status_code == 200
            refused = as_key.put(
                "/api/v1/me/notification-settings", json=[{"kind": "alert.firing", "email": False}]
            )
            assert refused.status_code == 403
            assert "login session" in error_of(refused)["message"]

        with user_api(app, ada) as as_ada:
            assert unread(as_ada) == 2
