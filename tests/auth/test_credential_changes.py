"""Every change to who may do what moves the auth revision (serving processes poll it to drop what
they cached); nothing else does. A change forgotten here would let a cached key outlive it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from kiln.auth import api_keys, projects, service
from kiln.auth.credential_changes import current_revision
from kiln.auth.permissions import Role
from kiln.auth.schemas import MemberSet, ProfileUpdate
from kiln.core.actor import SYSTEM
from tests.builders.auth import (
    Account,
    default_project_id,
    make_api_key,
    make_member,
    open_session,
    update_user,
)
from tests.builders.core import database


@dataclass(frozen=True)
class Owner:
    account: Account
    key_id: str
    refresh_token: str
    project_id: str


def revision(app: FastAPI) -> int:
    with database(app).unit_of_work() as session:
        return current_revision(session)


@pytest.fixture
def owner(app: FastAPI) -> Owner:
    """A data scientist of the default project, with a key and a login."""
    account = make_member(app, Role.data_scientist)
    project_id = default_project_id(app)
    key_id, _key = make_api_key(app, account, project_id)
    return Owner(account, key_id, open_session(app, account).refresh_token, project_id)


def in_unit(app: FastAPI, change: Callable[..., object], *args: object) -> None:
    with database(app).unit_of_work() as session:
        change(session, *args)


MOVES: dict[str, Callable[[FastAPI, Owner], None]] = {
    "a key revoked": lambda app, o: in_unit(app, api_keys.revoke_api_key, SYSTEM, o.key_id),
    "every key revoked": lambda app, o: in_unit(app, api_keys.revoke_all_api_keys, o.account.id),
    "a user deactivated": lambda app, o: update_user(app, o.account.id, is_active=False),
    "a global role changed": lambda app, o: update_user(app, o.account.id, role="viewer"),
    "a membership role changed": lambda app, o: in_unit(
        app, projects.set_member, SYSTEM, o.project_id, MemberSet(user_id=o.account.id, role=Role.viewer)
    ),
    "a membership removed": lambda app, o: in_unit(
        app, projects.remove_member, SYSTEM, o.project_id, o.account.id
    ),
    "a logout": lambda app, o: in_unit(app, service.logout, o.refresh_token),
}


class TestTheRevision:
    @pytest.mark.parametrize("change", list(MOVES))
    def test_moves_once_with_each_change(self, app: FastAPI, owner: Owner, change: str) -> None:
        before = revision(app)
        MOVES[change](app, owner)
        assert revision(app) == before + 1

    def test_moves_once_for_a_transaction_of_several_changes(self, app: FastAPI, owner: Owner) -> None:
        before = revision(app)
        with database(app).unit_of_work() as session:
            api_keys.revoke_all_api_keys(session, owner.account.id)
            projects.remove_member(session, SYSTEM, owner.project_id, owner.account.id)
        assert revision(app) == before + 1

    def test_stays_for_what_changes_no_access(self, app: FastAPI, owner: Owner) -> None:
        before = revision(app)
        open_session(app, owner.account)  # a login
        make_api_key(app, owner.account, owner.project_id)  # a new key
        with database(app).unit_of_work() as session:
            actor = service.user_actor(service.get_user(session, owner.account.id))
            service.update_profile(session, actor, ProfileUpdate(name="Ada"))
        assert revision(app) == before

    def test_stays_when_the_change_rolls_back(self, app: FastAPI, owner: Owner) -> None:
        before = revision(app)

        def revoke_then_fail() -> None:
            with database(app).unit_of_work() as session:
                api_keys.revoke_api_key(session, SYSTEM, owner.key_id)
                raise RuntimeError("the request failed after the revoke")

        with pytest.raises(RuntimeError):
            revoke_then_fail()
        assert revision(app) == before
