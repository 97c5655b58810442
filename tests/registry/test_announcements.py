"""Every lifecycle and registration change announces its event after commit; a change that rolls
back announces nothing and notifies no one (not in the app, not by mail)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.core import events
from kiln.core.actor import SYSTEM
from kiln.core.events import Event
from kiln.registry import lifecycle
from kiln.registry.events import (
    ApprovalDecided,
    ApprovalRequested,
    ModelAliasChanged,
    ModelVersionPromoted,
    ModelVersionRegistered,
    ModelVersionRolledBack,
    ModelVersionStageChanged,
)
from kiln.registry.models import ModelVersion, RegisteredModel
from tests.api import API
from tests.builders.core import database
from tests.builders.notify import stored_count
from tests.builders.registry import make_version_from_run
from tests.builders.registry_lifecycle import build_model
from tests.notify.mail_server import MailServer
from tests.registry.lifecycle_api import person, to_production

KINDS: tuple[type[Event], ...] = (
    ModelVersionRegistered,
    ModelVersionPromoted,
    ModelVersionStageChanged,
    ModelVersionRolledBack,
    ModelAliasChanged,
    ApprovalRequested,
    ApprovalDecided,
)


@pytest.fixture
def heard() -> Iterator[list[Event]]:
    """Every registry event delivered while the test runs."""
    received: list[Event] = []
    for kind in KINDS:
        events.subscribe(kind, received.append)
    yield received
    for kind in KINDS:
        events.unsubscribe(kind, received.append)


class Boom(Exception):
    pass


class TestRolledBack:
    def test_a_promotion_that_rolls_back_announces_nothing_and_notifies_no_one(
        self, mail_app: FastAPI, mail_server: MailServer, heard: list[Event]
    ) -> None:
        people = [person(mail_app, Role.viewer) for _ in range(2)]
        members = [someone.account for someone in people]
        # Promotions mail nobody by default: one member turns it on, so silence means something.
        chosen = people[0].client.put(
            f"{API}/me/notification-settings", json=[{"kind": "model_version.promoted", "email": True}]
        )
        assert chosen.status_code == 200, chosen.text
        [built] = build_model(mail_app, name="fraud_detector")
        state = kiln_state(mail_app)

        def promote() -> None:
            with database(mail_app).unit_of_work() as session:
                model = session.get_one(RegisteredModel, built.model_id)
                version = session.get_one(ModelVersion, built.id)
                outcome = lifecycle.promote_to_staging(
                    session, SYSTEM, model, version, reason="", store=state.store, mailer=state.mailer
                )
                assert outcome.blocked is None
                raise Boom  # something later in the same unit of work fails

        with pytest.raises(Boom):
            promote()

        assert heard == []
        assert [stored_count(mail_app, member.id) for member in members] == [0, 0]
        with database(mail_app).unit_of_work() as session:
            assert session.get_one(ModelVersion, built.id).stage == "development"
        mail_server.inbox.assert_quiet(members[0].email, for_seconds=0.5)

    def test_the_same_promotion_committed_announces_and_notifies(
        self, mail_app: FastAPI, heard: list[Event]
    ) -> None:
        member = person(mail_app, Role.viewer).account
        [built] = build_model(mail_app, name="fraud_detector")
        state = kiln_state(mail_app)

        with database(mail_app).unit_of_work() as session:
            model = session.get_one(RegisteredModel, built.model_id)
            version = session.get_one(ModelVersion, built.id)
            lifecycle.promote_to_staging(
                session, SYSTEM, model, version, reason="", store=state.store, mailer=state.mailer
            )

        [event] = heard
        assert isinstance(event, ModelVersionPromoted)
        assert (event.model_name, event.version_number, event.to_stage) == ("fraud_detector", 1, "staging")
        assert stored_count(mail_app, member.id) == 1


class TestEveryChangeAnnounces:
    def test_registration_announces_after_commit(self, app: FastAPI, heard: list[Event]) -> None:
        state = kiln_state(app)
        with database(app).unit_of_work() as session:
            make_version_from_run(session, state.store, name="fraud_detector")
            assert heard == []  # not before the commit

        [event] = heard
        assert isinstance(event, ModelVersionRegistered)
        assert (event.model_name, event.number, event.status) == ("fraud_detector", 1, "ready")

    def test_the_lifecycle_announces_each_step(self, app: FastAPI, heard: list[Event]) -> None:
        requester, approver = person(app, Role.ml_engineer), person(app, Role.ml_engineer)
        build_model(app, versions=2, name="fraud_detector")
        to_production(requester.client, approver.client, "fraud_detector", 1)
        to_production(requester.client, approver.client, "fraud_detector", 2)
        moved = requester.client.put(f"{API}/models/fraud_detector/aliases/champion", json={"version": 2})
        assert moved.status_code == 200, moved.text
        rolled = requester.client.post(f"{API}/models/fraud_detector/rollback", json={"reason": "drift"})
        assert rolled.status_code == 200, rolled.text
        archived = requester.client.post(
            f"{API}/models/fraud_detector/versions/1/stage", json={"stage": "archived", "reason": "retired"}
        )
        assert archived.status_code == 200, archived.text

        steps = [
            (type(event).__name__, getattr(event, "to_stage", None), getattr(event, "version_number", None))
            for event in heard
        ]
        assert steps == [
            ("ModelVersionPromoted", "staging", 1),
            ("ApprovalRequested", None, 1),
            ("ModelVersionPromoted", "production", 1),
            ("ApprovalDecided", None, 1),
            ("ModelVersionPromoted", "staging", 2),
            ("ApprovalRequested", None, 2),
            ("ModelVersionPromoted", "production", 2),
            ("ApprovalDecided", None, 2),
            ("ModelAliasChanged", None, 2),
            ("ModelVersionRolledBack", None, 1),
            ("ModelVersionStageChanged", "archived", 1),
        ]
