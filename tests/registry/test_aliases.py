"""Aliases move atomically, and every kind of version reference resolves to the right version."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiln.core.errors import NotFound
from kiln.registry.aliases import resolve_version
from kiln.registry.models import ModelAlias, RegisteredModel
from tests.api import API, error_of
from tests.builders.core import database
from tests.builders.registry_lifecycle import build_model
from tests.registry.lifecycle_api import Person, history, to_production, to_staging


def put_alias(person: Person, model: str, alias: str, version: int | str) -> dict[str, object]:
    response = person.client.put(f"{API}/models/{model}/aliases/{alias}", json={"version": version})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


class TestAliases:
    def test_an_alias_is_set_moved_and_deleted(self, app: FastAPI, engineer: Person) -> None:
        v1, _v2 = build_model(app, versions=2)
        assert put_alias(engineer, v1.model, "champion", 1)["version_number"] == 1
        assert put_alias(engineer, v1.model, "champion", 2)["version_number"] == 2
        put_alias(engineer, v1.model, "challenger", 1)
        listed = engineer.client.get(f"{API}/models/{v1.model}/aliases").json()
        assert [(a["alias"], a["version_number"]) for a in listed] == [("challenger", 1), ("champion", 2)]
        # A version reference may name the alias.
        assert history(engineer.client, v1.model, version="@champion") == []
        url = f"{API}/models/{v1.model}/aliases/champion"
        assert engineer.client.delete(url).status_code == 204
        gone = engineer.client.delete(url)
        assert gone.status_code == 404
        assert "no alias 'champion'" in error_of(gone)["message"]

    def test_names_are_validated_and_versions_must_exist(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        url = f"{API}/models/{v1.model}/aliases"
        bad = engineer.client.put(f"{url}/Champion!", json={"version": 1})
        assert bad.status_code == 422
        assert "lower-case letters" in error_of(bad)["message"]
        reserved = engineer.client.put(f"{url}/production", json={"version": 1})
        assert reserved.status_code == 422
        assert "reserved" in error_of(reserved)["message"]
        missing = engineer.client.put(f"{url}/champion", json={"version": 7})
        assert missing.status_code == 404
        assert "no version 7" in error_of(missing)["message"]
        assert engineer.client.put(f"{url}/champion", json={"version": "@other"}).status_code == 422

    def test_a_viewer_cannot_move_an_alias(self, app: FastAPI, viewer: Person) -> None:
        [v1] = build_model(app)
        assert (
            viewer.client.put(f"{API}/models/{v1.model}/aliases/champion", json={"version": 1}).status_code
            == 403
        )

    def test_racing_moves_leave_exactly_one_alias_pointing_at_one_of_them(
        self, app: FastAPI, engineer: Person
    ) -> None:
        built = build_model(app, versions=4)
        model = built[0].model
        put_alias(engineer, model, "champion", 1)
        answers: list[int] = []

        def move(number: int) -> None:
            response = engineer.client.put(f"{API}/models/{model}/aliases/champion", json={"version": number})
            answers.append(response.status_code)

        threads = [threading.Thread(target=move, args=(number,)) for number in (2, 3, 4) * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * len(threads)
        with database(app).unit_of_work() as session:
            rows = session.scalar(
                select(func.count()).select_from(ModelAlias).where(ModelAlias.model_id == built[0].model_id)
            )
            assert rows == 1
        [alias] = engineer.client.get(f"{API}/models/{model}/aliases").json()
        assert alias["version_number"] in (2, 3, 4)


class TestResolveVersion:
    def test_numbers_labels_aliases_and_stages(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        v1, _v2, _v3 = build_model(app, versions=3, labels=["1.0.0", "1.1.0", None])
        to_production(engineer.client, approver.client, v1.model, 1)
        to_staging(engineer.client, v1.model, 2)
        put_alias(engineer, v1.model, "champion", 1)
        refs = ["2", "1.1.0", "@champion", "production", "staging", "development", "latest"]
        with database(app).unit_of_work() as session:
            model = session.get_one(RegisteredModel, v1.model_id)
            resolved = [resolve_version(session, model, ref).number for ref in refs]
            assert resolved == [2, 2, 1, 1, 2, 3, 3]
            for ref, message in [
                ("9", "has no version 9"),
                ("@x", "has no alias @x"),
                ("archived", "has no version in archived"),
                ("2.0.0", "has no version labelled '2.0.0'"),
            ]:
                with pytest.raises(NotFound, match=message):
                    resolve_version(session, model, ref)
