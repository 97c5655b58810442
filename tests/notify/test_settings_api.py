"""``/me/notification-settings``: every kind with its effective channels; changes stick and are audited."""

from __future__ import annotations

from fastapi import FastAPI

from kiln.auth.permissions import Role
from kiln.notify.schemas import KINDS
from tests.api import error_of
from tests.builders.audit import audit_records
from tests.builders.auth import access_token, api, make_member

SETTINGS = "/api/v1/me/notification-settings"


def test_settings_start_at_the_kinds_defaults_and_round_trip(app: FastAPI) -> None:
    ada = make_member(app, Role.viewer)
    with api(app, access_token(app, ada)) as client:
        start = client.get(SETTINGS).json()
        assert [row["kind"] for row in start] == [kind.value for kind in KINDS]
        for row in start:
            spec = KINDS[row["kind"]]
            assert (row["in_app"], row["email"], row["label"]) == (spec.in_app, spec.email, spec.label)

        changed = client.put(
            SETTINGS,
            json=[
                {"kind": "alert.firing", "email": False},  # in_app left as it was
                {"kind": "model_version.registered", "in_app": False, "email": True},
            ],
        )
        assert changed.status_code == 200, changed.text
        again = {row["kind"]: row for row in client.get(SETTINGS).json()}

    assert again == {row["kind"]: row for row in changed.json()}
    assert (again["alert.firing"]["in_app"], again["alert.firing"]["email"]) == (True, False)
    assert (again["model_version.registered"]["in_app"], again["model_version.registered"]["email"]) == (
        False,
        True,
    )
    assert again["model_version.registered"]["default_in_app"] is True
    assert again["pipeline_run.failed"]["email"] is True  # untouched kinds keep their defaults
    [record] = [r for r in audit_records(app) if r.action == "notification_settings.updated"]
    assert (record.target_id, record.details["alert.firing"]) == (ada.id, {"in_app": True, "email": False})


def test_settings_are_each_users_own(app: FastAPI) -> None:
    ada, bob = make_member(app, Role.viewer), make_member(app, Role.viewer)
    with api(app, access_token(app, ada)) as as_ada:
        as_ada.put(SETTINGS, json=[{"kind": "alert.firing", "email": False}])
    with api(app, access_token(app, bob)) as as_bob:
        bobs = {row["kind"]: row for row in as_bob.get(SETTINGS).json()}
    assert bobs["alert.firing"]["email"] is True


def test_bad_settings_are_422s_that_say_what_to_fix(app: FastAPI) -> None:
    ada = make_member(app, Role.viewer)
    with api(app, access_token(app, ada)) as client:
        unknown = client.put(SETTINGS, json=[{"kind": "run.failed", "email": True}])
        twice = client.put(
            SETTINGS, json=[{"kind": "alert.firing"}, {"kind": "alert.firing", "email": False}]
        )
        extra = client.put(SETTINGS, json=[{"kind": "alert.firing", "sms": True}])
        not_a_list = client.put(SETTINGS, json={"kind": "alert.firing"})

    assert unknown.status_code == 422
    message = error_of(unknown)["message"]
    assert all(kind.value in message for kind in KINDS), message
    assert twice.status_code == 400
    assert "given twice" in error_of(twice)["message"]
    assert extra.status_code == 422
    assert "sms" in error_of(extra)["message"]
    assert not_a_list.status_code == 422
