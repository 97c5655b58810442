"""Naming a project one may not see answers like naming one that does not exist (L5, project part)."""

from __future__ import annotations

from fastapi import FastAPI

from kiln.auth.permissions import Role
from tests.api import error_of
from tests.builders.auth import api, make_member, make_project, open_session
from tests.builders.core import database


def test_a_non_member_learns_neither_the_existence_nor_the_id_of_a_project(app: FastAPI) -> None:
    outsider = make_member(app, Role.data_scientist)
    with database(app).unit_of_work() as session:
        hidden = make_project(session, "proj-b").id
    client = api(app, open_session(app, outsider).access_token)

    answers = {
        ref: client.get("/api/v1/experiments", params={"project": ref}) for ref in ("proj-b", "proj-z")
    }
    for ref, response in answers.items():
        assert response.status_code == 404
        assert error_of(response)["message"] == f"project {ref!r} not found"
        assert hidden not in response.text
    # By id it echoes the id the caller typed, exactly as for an id that does not exist.
    by_id = client.get("/api/v1/experiments", params={"project": hidden})
    assert by_id.status_code == 404
    assert error_of(by_id)["message"] == f"project {hidden!r} not found"
